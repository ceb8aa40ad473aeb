package dev.panopt.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Helpers that write raw (possibly hostile) safetensors bytes for tests. */
final class TestFiles {
    private TestFiles() {}

    /** Writes u64 length {@code headerLen}, then {@code header}, then {@code data}. */
    static Path raw(Path file, long headerLen, byte[] header, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLen).put(header).put(data);
        Files.write(file, b.array());
        return file;
    }

    /** A well-formed frame around an arbitrary header string. */
    static Path raw(Path file, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return raw(file, h.length, h, new byte[dataBytes]);
    }
}
