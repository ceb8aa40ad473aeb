package dev.panopt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.checkpoint.Checkpoint;
import dev.panopt.checkpoint.CheckpointException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Contracts of the task heads and of loading them (numbers are checked in conformance/). */
class TaskModelsTest {
    static final Path CASES = Path.of(System.getProperty("panopt.fixtures", "../conformance/fixtures")).resolve("cases");
    static final Path SEQCLS = CASES.resolve("seqcls-single");
    static final Path QA = CASES.resolve("qa");
    static final Path CAUSAL = CASES.resolve("preln-tiny");

    static final int[][] IDS = {{2, 10, 20, 30}, {2, 40, 1, 1}, {1, 2, 50, 60}};
    static final int[][] MASK = {{1, 1, 1, 1}, {1, 1, 0, 0}, {0, 1, 1, 1}};

    @Test
    void sequenceClassificationPoolsByHfsRule() throws Exception {
        try (OptForSequenceClassification m = OptForSequenceClassification.fromPretrained(SEQCLS);
             SequenceClassifierOutput out = m.forward(IDS, MASK)) {
            assertArrayEquals(new long[] {3, 3}, out.logits().shape());
            // no pad -> last; right-padded -> before the first pad; left-padded (pad at 0) -> last.
            assertArrayEquals(new int[] {3, 1, 3}, out.pooledIndex());
            float[] p = out.probabilities(0);
            assertEquals(1.0, p[0] + p[1] + p[2], 1e-6);
            assertTrue(out.loss().isEmpty());
        }
    }

    @Test
    void classificationLabelsAreCheckedAgainstTheProblemType() throws Exception {
        try (OptForSequenceClassification m = OptForSequenceClassification.fromPretrained(SEQCLS)) {
            // config says single_label_classification, num_labels 3
            assertThrows(IllegalArgumentException.class,
                    () -> m.forward(ForwardRequest.inputIds(IDS).attentionMask(MASK).labels(ClassificationLabels.classIds(0, 1)).build()));
            assertThrows(IllegalArgumentException.class,
                    () -> m.forward(ForwardRequest.inputIds(IDS).attentionMask(MASK).labels(ClassificationLabels.classIds(0, 1, 3)).build()));
            assertThrows(IllegalArgumentException.class,
                    () -> m.forward(ForwardRequest.inputIds(IDS).attentionMask(MASK).labels(ClassificationLabels.values(0f, 1f, 2f)).build()));
            try (SequenceClassifierOutput out = m.forward(ForwardRequest.inputIds(IDS).attentionMask(MASK).labels(ClassificationLabels.classIds(0, -100, 2)).build())) {
                assertTrue(out.loss().isPresent() && Double.isFinite(out.loss().getAsDouble()));
                assertEquals("single_label_classification", out.problemType().orElseThrow());
            }
        }
    }

    @Test
    void problemTypeIsInferredLikeHfWhenTheConfigHasNone() {
        assertEquals("regression", Losses.classification(ClassificationLabels.values(1f), null, 1, 1).problemType());
        assertEquals("single_label_classification",
                Losses.classification(ClassificationLabels.classIds(1), null, 3, 1).problemType());
        assertEquals("multi_label_classification",
                Losses.classification(ClassificationLabels.matrix(new float[][] {{1, 0, 1}}), null, 3, 1).problemType());
        assertThrows(IllegalArgumentException.class,
                () -> Losses.classification(ClassificationLabels.matrix(new float[][] {{1, 0}}), null, 3, 1));
        assertThrows(IllegalArgumentException.class,
                () -> Losses.classification(ClassificationLabels.classIds(1), "regression", 1, 1));
    }

    @Test
    void questionAnsweringGivesStartAndEndLogits() throws Exception {
        try (OptForQuestionAnswering m = OptForQuestionAnswering.fromPretrained(QA);
             Session s = m.newSession();
             QuestionAnsweringOutput out = m.forward(ForwardRequest.inputIds(IDS).attentionMask(MASK).startPositions(new int[] {1, 2, 4}).endPositions(new int[] {2, 2, 1000}).session(s).build())) {
            assertArrayEquals(new long[] {3, 4}, out.startLogits().shape());
            assertArrayEquals(new long[] {3, 4}, out.endLogits().shape());
            assertTrue(Double.isFinite(out.loss().orElseThrow()));
            assertThrows(IllegalArgumentException.class,
                    () -> m.forward(ForwardRequest.inputIds(IDS).attentionMask(MASK).startPositions(new int[] {1, 2}).endPositions(new int[] {2, 2}).session(s).build()));
            assertThrows(IllegalArgumentException.class,
                    () -> m.forward(ForwardRequest.inputIds(IDS).attentionMask(MASK).startPositions(new int[] {1, 2, 3}).session(s).build()));
        }
    }

    @Test
    void missingTaskHeadIsReportedClearly() {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> OptForSequenceClassification.fromPretrained(CAUSAL));
        assertTrue(e.getMessage().contains("score.weight"), e.getMessage());
        assertTrue(e.getMessage().contains("initializeMissingHead"), e.getMessage());
        CheckpointException q = assertThrows(CheckpointException.class, () -> OptForQuestionAnswering.fromPretrained(CAUSAL));
        assertTrue(q.getMessage().contains("qa_outputs.weight"), q.getMessage());
    }

    @Test
    void newHeadsAreDeterministicPerSeed() throws Exception {
        LoadOptions seed7 = LoadOptions.builder().numLabels(5).initializeMissingHead(7).build();
        LoadOptions seed8 = LoadOptions.builder().numLabels(5).initializeMissingHead(8).build();
        float[] a;
        float[] b;
        float[] c;
        try (var m = OptForSequenceClassification.fromPretrained(CAUSAL, seed7); var o = m.forward(IDS, MASK)) {
            assertEquals(5, m.config().numLabels());
            assertArrayEquals(new long[] {3, 5}, o.logits().shape());
            a = o.logits().toFloatArray();
        }
        try (var m = OptForSequenceClassification.fromPretrained(CAUSAL, seed7); var o = m.forward(IDS, MASK)) {
            b = o.logits().toFloatArray();
        }
        try (var m = OptForSequenceClassification.fromPretrained(CAUSAL, seed8); var o = m.forward(IDS, MASK)) {
            c = o.logits().toFloatArray();
        }
        assertArrayEquals(a, b);
        assertTrue(a[0] != c[0]);
        try (var m = OptForQuestionAnswering.fromPretrained(CAUSAL, seed7); var o = m.forward(IDS, MASK)) {
            assertArrayEquals(new long[] {3, 4}, o.startLogits().shape());
        }
    }

    @Test
    void numLabelsThatContradictTheStoredHeadIsAnError() {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> OptForSequenceClassification.fromPretrained(SEQCLS, LoadOptions.builder().numLabels(7).build()));
        assertTrue(e.getMessage().contains("score.weight"), e.getMessage());
    }

    @Test
    void baseModelGivesTheHiddenStateTheHeadsSee() throws Exception {
        try (OptModel base = OptModel.fromPretrained(CAUSAL);
             BaseModelOutput out = base.forward(ForwardRequest.inputIds(IDS).attentionMask(MASK).options(ForwardOptions.builder().outputHiddenStates(true).build()).build())) {
            assertArrayEquals(new long[] {3, 4, 64}, out.lastHiddenState().shape());
            assertEquals(3, out.hiddenStates().size());
            assertArrayEquals(out.hiddenStates().get(2).toFloatArray(), out.lastHiddenState().toFloatArray());
        }
    }

    @Test
    void inputsEmbedsEqualTheTokenEmbeddingPath() throws Exception {
        try (OptModel base = OptModel.fromPretrained(CAUSAL); Checkpoint ck = Checkpoint.open(CAUSAL)) {
            var emb = ck.find("decoder.embed_tokens.weight").orElseThrow();
            int dim = base.config().wordEmbedProjDim();
            float[][][] e = new float[IDS.length][IDS[0].length][dim];
            for (int b = 0; b < IDS.length; b++) {
                for (int t = 0; t < IDS[0].length; t++) {
                    for (int d = 0; d < dim; d++) {
                        e[b][t][d] = emb.data().getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED,
                                (long) IDS[b][t] * dim + d);
                    }
                }
            }
            try (BaseModelOutput byIds = base.forward(IDS, MASK);
                 BaseModelOutput byEmbeds = base.forward(ForwardRequest.inputsEmbeds(e).attentionMask(MASK).build())) {
                assertArrayEquals(byIds.lastHiddenState().toFloatArray(), byEmbeds.lastHiddenState().toFloatArray(), 1e-6f);
            }
            assertThrows(IllegalArgumentException.class,
                    () -> base.forward(ForwardRequest.inputsEmbeds(new float[][][] {{new float[dim - 1]}}).build()));
        }
    }

    @Test
    void forwardRequestsRejectLabelsOfAnotherModelAndCacheWithoutASession() throws Exception {
        try (OptModel base = OptModel.fromPretrained(CAUSAL);
             OptForCausalLM lm = OptForCausalLM.fromPretrained(CAUSAL)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> base.forward(ForwardRequest.inputIds(IDS).labels(IDS).build()));
            assertTrue(e.getMessage().contains("OPTModel"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> lm.forward(ForwardRequest.inputIds(IDS)
                    .labels(ClassificationLabels.classIds(0, 1, 2)).build()));
            assertTrue(e.getMessage().contains("token ids"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> lm.forward(ForwardRequest.inputIds(IDS)
                    .options(ForwardOptions.builder().useCache(true).build()).build()));
            assertTrue(e.getMessage().contains("session"), e.getMessage());
            // one row: the int[] overloads equal the batch of one
            int[] row = {2, 10, 20, 30};
            try (CausalLMOutput a = lm.forward(row); CausalLMOutput b = lm.forward(new int[][] {row})) {
                assertArrayEquals(b.logits().toFloatArray(), a.logits().toFloatArray());
            }
            try (BaseModelOutput a = base.forward(row);
                 BaseModelOutput b = base.forward(ForwardRequest.inputIds(row).attentionMask(new int[] {1, 1, 1, 1}).build())) {
                assertArrayEquals(b.lastHiddenState().toFloatArray(), a.lastHiddenState().toFloatArray());
            }
        }
    }

    @Test
    void classificationLabelsAreValues() {
        assertEquals(ClassificationLabels.classIds(0, 2), ClassificationLabels.classIds(0, 2));
        assertEquals(ClassificationLabels.classIds(0, 2).hashCode(), ClassificationLabels.classIds(0, 2).hashCode());
        assertEquals(ClassificationLabels.matrix(new float[][] {{1f, 0f}}), ClassificationLabels.matrix(new float[][] {{1f, 0f}}));
        assertEquals("ClassIds[0, 2]", ClassificationLabels.classIds(0, 2).toString());
    }

    @Test
    void answersHoldNoSurroundingWhitespaceAsInHfsPipeline() throws Exception {
        Path big = CASES.resolve("opt125m-shape-f16");
        var tok = dev.panopt.tokenizer.OptTokenizer.fromPretrained(CASES.resolveSibling("tokenizer"));
        String context = "alpha beta gamma delta epsilon zeta eta theta";
        int spaced = 0;
        for (long seed = 1; seed <= 6; seed++) {
            try (OptForQuestionAnswering m = OptForQuestionAnswering.fromPretrained(big,
                    LoadOptions.builder().initializeMissingHead(seed).build())) {
                Answer a = m.answer(tok, "Which letter?", context);
                assertEquals(a.text().strip(), a.text(), "seed " + seed);
                assertEquals(context.substring(a.start(), a.end()), a.text());
                spaced += a.start() > 0 ? 1 : 0;
            }
        }
        assertTrue(spaced > 0, "some answer starts after the context's first word (its token carries a space)");
    }
}
