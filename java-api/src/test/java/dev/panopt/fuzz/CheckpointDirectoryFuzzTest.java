package dev.panopt.fuzz;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.panopt.checkpoint.Checkpoint;
import dev.panopt.checkpoint.CheckpointException;
import dev.panopt.checkpoint.TensorInfo;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * Fuzzes {@link Checkpoint#open} on whole directories (see {@link Fuzz#sections}): {@code config.json},
 * {@code model.safetensors}, the sharded {@code model.safetensors.index.json} and its shards,
 * {@code pytorch_model.bin} and its index. Any directory gives a checkpoint or a
 * {@link CheckpointException} / {@link IOException} (its Javadoc); an open checkpoint is consistent
 * and {@link Checkpoint#validateDecoder()} either passes or throws {@link CheckpointException}.
 */
class CheckpointDirectoryFuzzTest {
    @FuzzTest
    @DictionaryEntries({Fuzz.SECTION + "config.json" + Fuzz.NAME_END,
            Fuzz.SECTION + "model.safetensors" + Fuzz.NAME_END,
            Fuzz.SECTION + "model.safetensors.index.json" + Fuzz.NAME_END,
            Fuzz.SECTION + "model-00001-of-00002.safetensors" + Fuzz.NAME_END,
            Fuzz.SECTION + "pytorch_model.bin.index.json" + Fuzz.NAME_END,
            Fuzz.SECTION + "pytorch_model.bin" + Fuzz.NAME_END,
            "\"weight_map\"", "\"metadata\"", "\"total_size\"", "\"../config.json\"", "\"model.decoder.embed_tokens.weight\"",
            "\"decoder.layers.0.fc1.weight\"", "\"lm_head.weight\""})
    void checkpointDirectory(byte[] data) throws IOException {
        Path dir = Fuzz.directory(data);
        Fuzz.expect(data.length, () -> {
            try (Checkpoint c = Checkpoint.open(dir)) {
                c.config();
                for (String name : c.names()) {
                    Checkpoint.CheckpointTensor t = c.find(name).orElseThrow();
                    TensorInfo info = t.info();
                    MemorySegment seg = t.data();
                    if (seg.byteSize() != info.byteSize() || info.byteSize() != info.dtype().bytes(info.numel())) {
                        throw new AssertionError(name + ": " + seg.byteSize() + " bytes for " + info);
                    }
                }
                c.parameterCount();
                try {
                    c.validateDecoder();
                } catch (CheckpointException expected) {
                    if (expected.getMessage() == null) {
                        throw new AssertionError("no message", expected);
                    }
                }
            }
        }, CheckpointException.class, IOException.class);
    }
}
