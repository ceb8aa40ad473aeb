package dev.panopt.checkpoint;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.panopt.fuzz.Fuzz;
import java.nio.file.Path;
import java.util.Map;

/**
 * Fuzzes the restricted pickle interpreter ({@link TorchPickle#parseStateDict}) directly, without the
 * zip and CRC around it: any bytes give a state dict or a {@link CheckpointException} (its Javadoc).
 */
class TorchPickleFuzzTest {
    private static final Path FILE = Path.of("fuzz/pytorch_model.bin");

    @FuzzTest
    @DictionaryEntries({"\u0080\u0002", "collections", "OrderedDict", "torch._utils", "_rebuild_tensor_v2", "torch",
            "HalfStorage", "FloatStorage", "BFloat16Storage", "storage", "cpu", "_rebuild_parameter", "builtins",
            "set", "os", "system"})
    void statePickle(byte[] pkl) {
        Fuzz.expect(pkl.length, () -> {
            Map<String, TorchPickle.TensorRef> dict = TorchPickle.parseStateDict(FILE, "archive/data.pkl", pkl);
            for (Map.Entry<String, TorchPickle.TensorRef> e : dict.entrySet()) {
                TorchPickle.TensorRef t = e.getValue();
                if (e.getKey() == null || t.storage() == null || t.storage().dtype() == null
                        || t.size().length != t.stride().length || t.offset() < 0 || t.storage().numel() < 0) {
                    throw new AssertionError("unvalidated tensor " + e.getKey() + ": " + t);
                }
                for (long d : t.size()) {
                    if (d < 0) {
                        throw new AssertionError("negative dimension in " + e.getKey());
                    }
                }
            }
        }, CheckpointException.class);
    }
}
