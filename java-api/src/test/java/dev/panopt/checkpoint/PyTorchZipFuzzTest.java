package dev.panopt.checkpoint;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.panopt.fuzz.Fuzz;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fuzzes {@link PyTorchZipFile#open} (zip structure, ZIP64, the pickle, storage bounds): any file gives
 * a validated checkpoint or a {@link CheckpointException} / {@link IOException} (its Javadoc). A file
 * that opens must be self-consistent: every tensor's bytes lie inside the file and match its shape.
 */
class PyTorchZipFuzzTest {
    @FuzzTest
    @DictionaryEntries({"PK\u0003\u0004", "PK\u0001\u0002", "PK\u0005\u0006", "PK\u0006\u0006", "PK\u0006\u0007",
            "archive/data.pkl", "archive/data/0", "archive/byteorder", "little", "big", "_rebuild_tensor_v2",
            "HalfStorage", "FloatStorage", "BFloat16Storage", "\u00ff\u00ff\u00ff\u00ff"})
    void pytorchZip(byte[] data) throws IOException {
        Path file = Fuzz.file("pytorch_model.bin", data);
        Fuzz.expect(data.length, () -> {
            try (PyTorchZipFile f = PyTorchZipFile.open(file)) {
                long size = Files.size(file);
                for (String name : f.names()) {
                    TensorInfo t = f.info(name);
                    MemorySegment seg = f.data(name);
                    if (seg.byteSize() != t.byteSize() || t.byteSize() != t.dtype().bytes(t.numel())
                            || t.offset() < 0 || t.offset() + t.byteSize() > size) {
                        throw new AssertionError(name + ": " + t + " in a file of " + size + " bytes");
                    }
                }
            }
        }, CheckpointException.class, IOException.class);
    }
}
