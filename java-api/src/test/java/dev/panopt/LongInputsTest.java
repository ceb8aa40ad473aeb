package dev.panopt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.tokenizer.EncodeOptions;
import dev.panopt.tokenizer.OptTokenizer;
import dev.panopt.tokenizer.TruncationSide;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Inputs longer than the 64 positions of the tiny fixture models: an {@link InputTooLongException}
 * naming the input without truncation, and with it the same result as the hand-cut text (the byte
 * tokenizer gives one token per character of "xyz..." text).
 */
class LongInputsTest {
    static OptTokenizer tok;

    @BeforeAll
    static void load() throws Exception {
        tok = OptTokenizer.fromPretrained(Path.of(LongInputsTest.class.getResource("byte-tokenizer").toURI()));
    }

    /** n characters without merges: n tokens. */
    static String text(int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append("xyzwvq".charAt(i % 6));
        }
        return b.toString();
    }

    @Test
    void classificationTruncatesOrSaysWhichTextIsTooLong() throws Exception {
        String longText = text(100) + "k";
        assertEquals(102, tok.encode(longText).length);
        try (OptForSequenceClassification m = OptForSequenceClassification.fromPretrained(TaskModelsTest.SEQCLS)) {
            InputTooLongException e = assertThrows(InputTooLongException.class,
                    () -> m.classify(tok, List.of("short", longText)));
            assertEquals(1, e.index());
            assertEquals(102, e.length());
            assertEquals(64, e.limit());
            assertTrue(e.getMessage().contains("texts[1] has 102 tokens"), e.getMessage());

            // truncation without maxLength: the model's 64 positions, the BOS and 63 characters
            var right = m.classify(tok, longText, EncodeOptions.builder().truncation(true).build());
            assertEquals(m.classify(tok, longText.substring(0, 63)).scores(), right.scores());
            var left = m.classify(tok, longText, EncodeOptions.builder().truncation(true)
                    .truncationSide(TruncationSide.LEFT).maxLength(40).build());
            assertEquals(m.classify(tok, longText.substring(longText.length() - 39)).scores(), left.scores());
            assertTrue(!left.scores().equals(right.scores()));
            assertThrows(IllegalArgumentException.class, () -> m.classify(tok, List.of("a"),
                    EncodeOptions.builder().padding(EncodeOptions.Padding.LONGEST).build()));
        }
    }

    @Test
    void generationKeepsRoomForNewTokensAndTruncatesPromptsFromTheChosenSide() throws Exception {
        GenerationConfig config = GenerationConfig.builder().maxNewTokens(4).eosTokenIds().build();
        String prompt = text(70);
        try (OptForCausalLM lm = OptForCausalLM.fromPretrained(TaskModelsTest.CAUSAL)) {
            InputTooLongException e = assertThrows(InputTooLongException.class,
                    () -> lm.generate(tok, List.of("ok", text(60), prompt), config));
            assertEquals(1, e.index());   // 61 tokens + 4 new > 64 already
            assertEquals(60, e.limit());
            assertTrue(e.getMessage().contains("max_new_tokens 4"), e.getMessage());

            // the default maximum leaves room for the new tokens: 60 = BOS + the last 59 characters
            EncodeOptions keepEnd = EncodeOptions.builder().truncation(true).truncationSide(TruncationSide.LEFT).build();
            GenerationResult cut = lm.generate(tok, List.of(prompt), config, keepEnd, t -> { });
            GenerationResult byHand = lm.generate(tok, prompt.substring(70 - 59), config);
            assertArrayEquals(byHand.tokens(0), cut.tokens(0));
            try (TokenStream s = lm.stream(tok, List.of(prompt), config, keepEnd)) {
                s.forEachRemaining(t -> { });
                assertArrayEquals(byHand.tokens(0), s.result().tokens(0));
            }
            EncodeOptions tooLong = EncodeOptions.builder().truncation(true).maxLength(62).build();
            assertThrows(InputTooLongException.class, () -> lm.stream(tok, List.of(prompt), config, tooLong));
        }
    }
}
