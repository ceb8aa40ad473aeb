package dev.panopt.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.tokenizer.OptTokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * scoreContinuations' truncation: a pair that fits is untouched; a longer one keeps the end of its
 * context, cut at a token boundary to the longest end that fits; a continuation too long by itself
 * is an error.
 */
class ContextTruncationTest {
    static OptTokenizer tok;

    @BeforeAll
    static void load() throws Exception {
        tok = OptTokenizer.fromPretrained(TestModels.TOKENIZER);
    }

    @Test
    void aPairThatFitsIsUntouched() {
        String context = "The capital of France is";
        assertSame(context, ContextTruncation.fit(tok, context, " Paris", true, 33));
    }

    @Test
    void aLongContextKeepsItsEnd() {
        String context = "word ".repeat(40) + "ünïcödé 😀 and so the capital of France is";
        for (boolean special : new boolean[] {true, false}) {
            String cut = ContextTruncation.fit(tok, context, " Paris", special, 33);
            assertTrue(context.endsWith(cut) && cut.length() < context.length(), cut);
            assertEquals(33, tok.encode(cut + " Paris", special).length, "the longest end that fits");
        }
    }

    @Test
    void aContinuationTooLongByItselfIsAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ContextTruncation.fit(tok, "Context:", " word".repeat(40), true, 33));
        assertTrue(e.getMessage().startsWith("the continuation is too long for the model: 43 tokens with its context, "
                + "more than 33"), e.getMessage());
    }
}
