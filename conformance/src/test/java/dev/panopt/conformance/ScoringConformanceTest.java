package dev.panopt.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.panopt.Backend;
import dev.panopt.BackendOptions;
import dev.panopt.Isa;
import dev.panopt.LoadOptions;
import dev.panopt.OptForCausalLM;
import dev.panopt.Panopt;
import dev.panopt.ScoreOptions;
import dev.panopt.SequenceScore;
import dev.panopt.tokenizer.PaddingSide;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * {@link OptForCausalLM#score} against the shared references' causal-LM losses: for every call of a
 * case that gives {@code labels} and stores a {@code loss}, each row's real tokens are scored and
 * minus the mean of the log-probabilities at the labelled targets must equal the loss within the
 * suite's loss tolerance, under every kernel ISA with 1 and 2 threads, batched and one row at a time,
 * padded on either side.
 *
 * <p>A loss is a scoring quantity when every labelled target is its row's own token predicted from a
 * real position. HF's {@code loss} with {@code labels = input_ids} (-100 at padding) also predicts the
 * first real token of a left-padded row from the padding before it, which no scoring of the text
 * does; such a loss is listed as not comparable (its logits are checked by {@link ConformanceTest}),
 * while {@code loss_strict}, which drops exactly those targets, is reproduced.
 */
class ScoringConformanceTest {

    /** One labelled loss of a case: the call's inputs and the stored value. */
    record LossCase(String caseName, String lossName, int[][] ids, int[][] mask, int[][] labels, double expected) {}

    static List<LossCase> lossCases() throws Exception {
        List<LossCase> out = new ArrayList<>();
        for (Path c : ConformanceTest.cases()) {
            try (Fixture f = Fixture.open(c)) {
                if (!f.modelClass().equals("OPTForCausalLM")) {
                    continue;
                }
                for (JsonNode call : f.caseJson.path("calls")) {
                    JsonNode in = call.path("inputs");
                    String loss = call.path("outputs").path("loss").asText("");
                    if (!in.has("labels") || loss.isEmpty()) {
                        continue;
                    }
                    int[][] ids = f.ints2(in.path("input_ids").asText());
                    int[][] mask = in.has("attention_mask") ? f.ints2(in.path("attention_mask").asText()) : ones(ids);
                    out.add(new LossCase(f.name, loss, ids, mask, f.ints2(in.path("labels").asText()),
                            f.floats(loss)[0]));
                }
            }
        }
        return out;
    }

    static int[][] ones(int[][] ids) {
        int[][] m = new int[ids.length][ids[0].length];
        for (int[] r : m) {
            Arrays.fill(r, 1);
        }
        return m;
    }

    /** Why a loss is not the mean log-probability of scored tokens, or null when it is. */
    static String notComparable(LossCase l) {
        for (int b = 0; b < l.ids.length; b++) {
            int first = firstReal(l.mask[b]);
            int last = lastReal(l.mask[b]);
            for (int t = first; t <= last; t++) {
                if (l.mask[b][t] != 1) {
                    return "row " + b + " has padding inside its text";
                }
            }
            for (int t = 1; t < l.ids[b].length; t++) {
                if (l.labels[b][t] == -100) {
                    continue;
                }
                if (l.mask[b][t] != 1 || l.mask[b][t - 1] != 1) {
                    return "row " + b + " position " + t + " is a target predicted from padding (HF's loss with "
                            + "labels = input_ids on a left-padded row); scoring predicts a text's tokens from the text";
                }
                if (l.labels[b][t] != l.ids[b][t]) {
                    return "row " + b + " position " + t + " is labelled with another token than its input";
                }
            }
        }
        return null;
    }

    static int firstReal(int[] mask) {
        int t = 0;
        while (mask[t] != 1) {
            t++;
        }
        return t;
    }

    static int lastReal(int[] mask) {
        int t = mask.length - 1;
        while (mask[t] != 1) {
            t--;
        }
        return t;
    }

    /** Minus the mean log-probability, over the labelled targets, of scoring each row's real tokens. */
    static double scoredLoss(OptForCausalLM lm, LossCase l, ScoreOptions o) {
        int[][] rows = new int[l.ids.length][];
        for (int b = 0; b < rows.length; b++) {
            rows[b] = Arrays.copyOfRange(l.ids[b], firstReal(l.mask[b]), lastReal(l.mask[b]) + 1);
        }
        List<SequenceScore> scores = lm.score(rows, o);
        double sum = 0;
        int n = 0;
        for (int b = 0; b < rows.length; b++) {
            float[] lp = scores.get(b).tokenLogprobs();
            int first = firstReal(l.mask[b]);
            for (int t = first + 1; t <= lastReal(l.mask[b]); t++) {
                if (l.labels[b][t] != -100) {
                    sum += lp[t - first - 1];
                    n++;
                }
            }
        }
        return -sum / n;
    }

    @TestFactory
    Stream<DynamicTest> scoringReproducesEveryComparableReferenceLoss() throws Exception {
        List<LossCase> cases = lossCases();
        List<DynamicTest> tests = new ArrayList<>();
        for (Isa isa : Panopt.availableIsas()) {
            for (int threads : new int[] {1, 2}) {
                BackendOptions bo = BackendOptions.builder().isa(isa).threads(threads).build();
                tests.add(DynamicTest.dynamicTest(isa + " x" + threads, () -> checkAll(bo, cases)));
            }
        }
        return tests.stream();
    }

    private static void checkAll(BackendOptions bo, List<LossCase> cases) throws Exception {
        List<ScoreOptions> options = List.of(ScoreOptions.builder().batchSize(1).build(),
                ScoreOptions.builder().batchSize(8).paddingSide(PaddingSide.LEFT).build(),
                ScoreOptions.builder().batchSize(2).paddingSide(PaddingSide.RIGHT).build());
        try (Backend backend = Backend.create(bo)) {
            for (LossCase l : cases) {
                if (notComparable(l) != null) {
                    continue;
                }
                Path dir = ConformanceTest.FIXTURES.resolve("cases").resolve(l.caseName);
                try (OptForCausalLM lm = OptForCausalLM.fromPretrained(dir, LoadOptions.builder().backend(backend).build())) {
                    for (ScoreOptions o : options) {
                        double got = scoredLoss(lm, l, o);
                        assertTrue(Compare.Tolerance.LOSS.accepts(got, l.expected), () -> l.caseName + "/" + l.lossName
                                + " " + o + ": scoring gives " + got + ", the reference " + l.expected + " ("
                                + Compare.Tolerance.LOSS + ")");
                    }
                }
            }
        }
    }

    /** Which losses are compared is decided by the data; this pins it so a change cannot go unnoticed. */
    @Test
    void everyStrictLossIsComparedAndOnlyPaddingPredictedLossesAreNot() throws Exception {
        List<String> compared = new ArrayList<>();
        for (LossCase l : lossCases()) {
            String why = notComparable(l);
            if (why == null) {
                compared.add(l.caseName + "/" + l.lossName);
            } else {
                assertEquals("loss", l.lossName, l.caseName + ": " + why);
                assertTrue(why.contains("predicted from padding"), why);
            }
        }
        assertEquals(List.of("postln-proj-tiny/loss_strict", "preln-tiny/loss_strict"), compared);
    }

    /** The comparison can fail: a loss over other targets than the labelled ones is caught. */
    @Test
    void aWrongTargetSetIsDetected() throws Exception {
        LossCase strict = lossCases().stream().filter(l -> l.lossName.equals("loss_strict")).findFirst().orElseThrow();
        int[][] fewer = Arrays.stream(strict.labels).map(int[]::clone).toArray(int[][]::new);
        fewer[0][fewer[0].length - 1] = -100;
        LossCase wrong = new LossCase(strict.caseName, strict.lossName, strict.ids, strict.mask, fewer, strict.expected);
        Path dir = ConformanceTest.FIXTURES.resolve("cases").resolve(strict.caseName);
        try (OptForCausalLM lm = OptForCausalLM.fromPretrained(dir)) {
            assertTrue(Compare.Tolerance.LOSS.accepts(scoredLoss(lm, strict, ScoreOptions.DEFAULT), strict.expected));
            assertFalse(Compare.Tolerance.LOSS.accepts(scoredLoss(lm, wrong, ScoreOptions.DEFAULT), strict.expected));
        }
    }
}
