package dev.panopt.bench;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import de.kherud.llama.InferenceParameters;
import org.junit.jupiter.api.Test;

/** The binding's request carries the exact token ids as its JSON prompt (no native code involved). */
class LlamaBindingBenchTest {
    @Test
    void withTokensMakesTheIdsTheJsonPrompt() {
        InferenceParameters p = new InferenceParameters("text that must not stay");
        assertSame(p, LlamaBindingBench.withTokens(p, new int[] {2, 31414, 232}));
        String json = p.toString();
        assertTrue(json.contains("\"prompt\": [2, 31414, 232]"), json);
        assertFalse(json.contains("text that must not stay"), json);
    }
}
