package dev.panopt.checkpoint;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.panopt.fuzz.Fuzz;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fuzzes {@link SafetensorsFile#open}: any file gives a validated file or a {@link CheckpointException}
 * / {@link IOException} (its Javadoc). A file that opens must be self-consistent: every tensor's bytes
 * lie inside the file, match numel × dtype size, and can be read back.
 */
class SafetensorsFuzzTest {
    @FuzzTest
    @DictionaryEntries({"{\"", "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"", "\"F32\"", "\"F16\"",
            "\"BF16\"", "\"F64\"", "\"I64\"", "\"I32\"", "\"I16\"", "\"I8\"", "\"U8\"", "\"BOOL\"", "\"F8_E4M3\"",
            "18446744073709551615", "9223372036854775807", "4294967296", "[0,0]", "[]"})
    void safetensorsFile(byte[] data) throws IOException {
        Path file = Fuzz.file("model.safetensors", data);
        Fuzz.expect(data.length, () -> {
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                check(f, Files.size(file));
            }
        }, CheckpointException.class, IOException.class);
    }

    static void check(SafetensorsFile f, long fileSize) {
        f.metadata().forEach((k, v) -> {
            if (k == null || v == null) {
                throw new AssertionError("null metadata entry");
            }
        });
        for (String name : f.names()) {
            TensorInfo t = f.info(name);
            MemorySegment seg = f.data(name);
            if (seg.byteSize() != t.byteSize() || t.byteSize() != t.dtype().bytes(t.numel())) {
                throw new AssertionError(name + ": " + seg.byteSize() + " bytes for " + t);
            }
            if (t.offset() < 8 || t.offset() + t.byteSize() > fileSize) {
                throw new AssertionError(name + " lies outside the file: " + t);
            }
            if (t.numel() <= 4096) {
                if (t.dtype().isFloatingPoint()) {
                    if (f.readFloats(name).length != t.numel()) {
                        throw new AssertionError(name);
                    }
                } else if (f.readLongs(name).length != t.numel()) {
                    throw new AssertionError(name);
                }
            }
        }
    }
}
