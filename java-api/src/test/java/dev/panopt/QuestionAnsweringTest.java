package dev.panopt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.QuestionAnsweringOptions.SpanScore;
import dev.panopt.tokenizer.EncodeOptions;
import dev.panopt.tokenizer.Encoding;
import dev.panopt.tokenizer.OptTokenizer;
import dev.panopt.tokenizer.PairEncoding;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Question answering over contexts longer than a window, on the {@code qa} fixture (64 positions)
 * with a byte-level tokenizer (about one token per character): the answer is checked against a plain
 * reference that runs each window alone and scores every span with the pipeline's rule.
 */
class QuestionAnsweringTest {
    static final String CONTEXT = "The old lighthouse stood on a rock at the end of the bay. Its keeper, Mara, kept a log"
            + " of every ship that passed. In the winter of the storm she counted forty ships, and in the spring the"
            + " harbour filled with boats again. Her cat slept by the lamp. Visitors came by ferry on Sundays, and the"
            + " ferry left at noon from the north pier.";
    static final List<String> QUESTIONS = List.of("Who kept the log?", "Where did the cat sleep?",
            "When did the ferry leave?", "How many ships?", "What stood on the rock?");

    static OptForQuestionAnswering model;
    static OptTokenizer tok;

    @BeforeAll
    static void load() throws Exception {
        model = OptForQuestionAnswering.fromPretrained(TaskModelsTest.QA);
        tok = OptTokenizer.fromPretrained(Path.of(QuestionAnsweringTest.class.getResource("byte-tokenizer").toURI()));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** The best span by running each window alone: {window, startToken, endToken} and its score. */
    record Ref(int window, int start, int end, double score, List<PairEncoding> windows) {}

    static Ref reference(String question, String context, int maxQuestionLen, int maxAnswerLen, SpanScore how) {
        Encoding q = tok.encodeWithOffsets(question, false);
        int n = Math.min(q.length(), maxQuestionLen);
        q = new Encoding(Arrays.copyOf(q.ids(), n), Arrays.copyOf(q.tokens(), n), Arrays.copyOf(q.startOffsets(), n),
                Arrays.copyOf(q.endOffsets(), n));
        List<PairEncoding> windows = tok.encodePairWindows(q, tok.encodeWithOffsets(context, false),
                EncodeOptions.builder().truncation(EncodeOptions.Truncation.ONLY_SECOND).maxLength(64).stride(32).build());
        Ref best = new Ref(-1, -1, -1, Double.NEGATIVE_INFINITY, windows);
        for (int k = 0; k < windows.size(); k++) {
            PairEncoding w = windows.get(k);
            try (QuestionAnsweringOutput o = model.forward(w.ids())) {
                float[] s = o.startLogits().row(0);
                float[] e = o.endLogits().row(0);
                double zs = 0;
                double ze = 0;
                for (int i = 0; i < w.length(); i++) {
                    if (w.sequenceIds()[i] == 1) {
                        zs += Math.exp(s[i]);
                        ze += Math.exp(e[i]);
                    }
                }
                for (int i = 0; i < w.length(); i++) {
                    for (int j = i; j < w.length() && j - i < maxAnswerLen; j++) {
                        if (w.sequenceIds()[i] != 1 || w.sequenceIds()[j] != 1) {
                            continue;
                        }
                        double v = how == SpanScore.LOGIT_SUM ? s[i] + e[j] : Math.exp(s[i]) / zs * Math.exp(e[j]) / ze;
                        if (v > best.score()) {
                            best = new Ref(k, i, j, v, windows);
                        }
                    }
                }
            }
        }
        return best;
    }

    static void assertMatches(Ref ref, Answer a, String context) {
        PairEncoding w = ref.windows().get(ref.window());
        int start = w.startOffsets()[ref.start()];
        int end = w.endOffsets()[ref.end()];
        String span = context.substring(start, end);
        // without surrounding whitespace, unless that is all the span holds
        assertEquals(span.isBlank() ? span : span.strip(), a.text(), "window " + ref.window());
        assertTrue(a.start() >= start && a.end() <= end, a + " within [" + start + ", " + end + ")");
        assertEquals(context.substring(a.start(), a.end()), a.text());
        assertEquals(ref.score(), a.score(), 1e-5 * Math.max(1, Math.abs(ref.score())));
    }

    @Test
    void theAnswerIsTheBestSpanOfAnyWindowWithOffsetsIntoTheWholeContext() {
        int beyondFirstWindow = 0;
        for (SpanScore how : SpanScore.values()) {
            QuestionAnsweringOptions options = QuestionAnsweringOptions.builder().spanScore(how).build();
            for (String question : QUESTIONS) {
                Ref ref = reference(question, CONTEXT, 64, 15, how);
                assertTrue(ref.windows().size() >= 8, "windows: " + ref.windows().size());
                Answer a = model.answer(tok, question, CONTEXT, options);
                assertMatches(ref, a, CONTEXT);
                PairEncoding first = ref.windows().get(0);
                if (a.start() >= first.endOffsets()[first.length() - 1]) {
                    beyondFirstWindow++;
                }
            }
        }
        assertTrue(beyondFirstWindow > 0, "some answers lie past the first window");
    }

    @Test
    void aContextThatFitsIsOneWindowAsBefore() {
        String context = "Mara kept the log by the lamp.";
        Ref ref = reference("Who?", context, 64, 15, SpanScore.PROBABILITY);
        assertEquals(1, ref.windows().size());
        assertEquals(tok.encodePair("Who?", context), ref.windows().get(0));
        assertMatches(ref, model.answer(tok, "Who?", context), context);
        Ref shortAnswers = reference("Who?", context, 64, 2, SpanScore.PROBABILITY);
        Answer a = model.answer(tok, "Who?", context, 2);
        assertMatches(shortAnswers, a, context);
        assertTrue(a.text().length() <= 2, a.text());
    }

    @Test
    void aLongQuestionKeepsItsFirstMaxQuestionLenTokens() {
        String question = "Which of the ships that passed the old lighthouse in the winter of the storm was counted last?";
        Ref ref = reference(question, CONTEXT, 20, 15, SpanScore.PROBABILITY);
        assertMatches(ref, model.answer(tok, question, CONTEXT,
                QuestionAnsweringOptions.builder().maxQuestionLen(20).build()), CONTEXT);
    }

    @Test
    void windowsThatCannotBeMadeAreClearErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.answer(tok, "Who?", CONTEXT,
                QuestionAnsweringOptions.builder().maxSeqLen(65).build()));
        assertTrue(e.getMessage().contains("max_position_embeddings"), e.getMessage());
        String longQuestion = "q".repeat(70);
        e = assertThrows(IllegalArgumentException.class, () -> model.answer(tok, longQuestion, CONTEXT,
                QuestionAnsweringOptions.builder().maxQuestionLen(100).build()));
        assertTrue(e.getMessage().contains("70 tokens") && e.getMessage().contains("no room"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> model.answer(tok, "Who?", CONTEXT,
                QuestionAnsweringOptions.builder().docStride(58).build()));
        assertTrue(e.getMessage().contains("stride 58"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> model.answer(tok, "Who?", ""));
        assertThrows(IllegalArgumentException.class, () -> QuestionAnsweringOptions.builder().maxAnswerLen(0));
    }
}
