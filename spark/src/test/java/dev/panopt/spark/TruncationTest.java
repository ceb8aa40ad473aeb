package dev.panopt.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.OptConfig;
import dev.panopt.tokenizer.OptTokenizer;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Fitting rows to the model: what fits is untouched; what does not is an error, or is cut at a token
 * boundary to the longest text that fits, from the chosen end (offsets kept for a left cut).
 */
class TruncationTest {
    static OptTokenizer tok;
    static OptConfig config;

    @BeforeAll
    static void load() throws Exception {
        tok = OptTokenizer.fromPretrained(TestModels.TOKENIZER);
        config = OptConfig.load(TestModels.BASE).toBuilder().maxPositionEmbeddings(32).build();
    }

    static Truncation.Fit fit(Task task, Map<String, String> options, String... inputs) {
        Map<String, String> all = new java.util.HashMap<>(options);
        all.put("model", "/m");
        TaskOptions o = TaskOptions.parse(task, all);
        return Truncation.fit(task.runner(), tok, config, o, inputs);
    }

    @Test
    void aRowThatFitsIsUntouched() {
        String[] in = {"A short text."};
        Truncation.Fit f = fit(Task.CLASSIFY, Map.of(), in);
        assertSame(in, f.input().values());
        assertFalse(f.input().truncated());
    }

    @Test
    void aLongRowIsAnErrorOrCutToFit() {
        String text = "word ".repeat(40).strip() + " ünïcödé 😀 end";
        Truncation.Fit err = fit(Task.CLASSIFY, Map.of(), text);
        assertNull(err.input());
        assertTrue(err.error().startsWith("the input is " + tok.encode(text).length + " tokens, more than the 32 that "
                + "classify takes with this model (max_position_embeddings 32)"), err.error());

        Truncation.Fit right = fit(Task.CLASSIFY, Map.of("overflow", "truncate"), text);
        String cut = right.input().values()[0];
        assertTrue(right.input().truncated());
        assertTrue(text.startsWith(cut));
        assertEquals(32, tok.encode(cut).length, "the longest prefix that fits, with the BOS");
        assertEquals(0, right.input().cutPrefix());

        Truncation.Fit left = fit(Task.CLASSIFY, Map.of("overflow", "truncate", "truncationSide", "left"), text);
        String tail = left.input().values()[0];
        assertTrue(text.endsWith(tail));
        assertEquals(text.length() - tail.length(), left.input().cutPrefix());
        assertEquals(32, tok.encode(tail).length);
    }

    @Test
    void eachTaskCutsItsOwnInputAgainstItsOwnLimit() {
        String text = "word ".repeat(60).strip();
        // score: the last token is only a target, so one more than the context.
        assertEquals(33, tok.encode(fit(Task.SCORE, Map.of("overflow", "truncate"), text).input().values()[0]).length);
        // generate: the prompt leaves room for the new tokens.
        assertEquals(32 - 5, tok.encode(fit(Task.GENERATE, Map.of("overflow", "truncate", "maxNewTokens", "5"), text)
                .input().values()[0]).length);
        // answer: the context is cut, not the question.
        Truncation.Fit qa = fit(Task.ANSWER, Map.of("overflow", "truncate"), "Which word?", text);
        assertEquals("Which word?", qa.input().values()[0]);
        assertEquals(32, tok.encodePair("Which word?", qa.input().values()[1]).ids().length);
        // scoreContinuations: the context loses its start, whatever truncationSide says.
        Truncation.Fit pair = fit(Task.SCORE_CONTINUATIONS, Map.of("overflow", "truncate", "truncationSide", "right"),
                text, " the end");
        assertTrue(text.endsWith(pair.input().values()[0]));
        assertEquals(" the end", pair.input().values()[1]);
        assertEquals(33, tok.encode(pair.input().values()[0] + " the end").length);
    }

    @Test
    void aRowThatCannotBeCutToFitIsAnError() {
        Truncation.Fit f = fit(Task.ANSWER, Map.of("overflow", "truncate"), "why ".repeat(40), "A context.");
        assertNull(f.input());
        assertTrue(f.error().endsWith("and cutting column context cannot make it fit"), f.error());
    }
}
