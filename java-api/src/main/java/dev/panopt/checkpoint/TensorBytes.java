package dev.panopt.checkpoint;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

/** Runs a writer's {@link SafetensorsWriter.TensorData} callback and checks that it wrote exactly the tensor's bytes. */
final class TensorBytes {
    private TensorBytes() {}

    /** A callback that streams the contents of {@code data} in chunks of at most 1 MiB. */
    static SafetensorsWriter.TensorData of(MemorySegment data) {
        return out -> {
            byte[] buf = new byte[(int) Math.min(1 << 20, Math.max(1, data.byteSize()))];
            for (long off = 0; off < data.byteSize(); off += buf.length) {
                int len = (int) Math.min(buf.length, data.byteSize() - off);
                MemorySegment.copy(data, ValueLayout.JAVA_BYTE, off, buf, 0, len);
                out.write(buf, 0, len);
            }
        };
    }

    /**
     * Lets {@code data} write to {@code out} through a stream that counts the bytes and ignores
     * {@code close()} (a callback must not close the file under the writer).
     *
     * @throws IOException if the callback fails or writes other than {@code expected} bytes
     */
    static void write(OutputStream out, SafetensorsWriter.TensorData data, long expected, Path file, String tensor)
            throws IOException {
        long[] count = {0};
        OutputStream counting = new FilterOutputStream(out) {
            @Override
            public void write(int b) throws IOException {
                out.write(b);
                count[0]++;
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
                count[0] += len;
            }

            @Override
            public void close() {}
        };
        data.writeTo(counting);
        if (count[0] != expected) {
            throw new IOException(file + ": tensor " + tensor + ": data callback wrote " + count[0] + " bytes, expected "
                    + expected);
        }
    }
}
