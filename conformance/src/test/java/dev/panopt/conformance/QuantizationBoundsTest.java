package dev.panopt.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.DType;
import dev.panopt.Quantizer;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The error model's parts: each format's step-size error against the native quantizers, the activation term, the comparison. */
class QuantizationBoundsTest {
    static final List<DType> FORMATS = List.of(DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0, DType.Q4_1, DType.Q5_0,
            DType.Q5_1, DType.Q4_K, DType.Q5_K, DType.Q6_K, DType.Q8_K, DType.Q8_1);

    /**
     * The step-size model must not understate what a format's quantizer actually does (that is what
     * makes the bounds bounds: realized RMS error at most the model's, within sampling noise of 5%),
     * and must be of the same order (at least half): on Gaussian, uniform and heavy-tailed (cubed
     * Gaussian) rows of OPT-like scale, never zero.
     */
    @Test
    void stepSizeErrorOfEachFormatMatchesItsQuantizer() {
        SplittableRandom rnd = new SplittableRandom(11);
        for (String dist : List.of("gaussian", "uniform", "heavy")) {
            for (DType t : FORMATS) {
                double predicted = 0;
                double realized = 0;
                for (int row = 0; row < 4; row++) {
                    float[] x = new float[4096];
                    for (int i = 0; i < x.length; i++) {
                        double g = rnd.nextGaussian();
                        double v = switch (dist) {
                            case "gaussian" -> g;
                            case "uniform" -> 2 * rnd.nextDouble() - 1;
                            default -> g * g * g;
                        };
                        x[i] = (float) (0.02 * v + (v >= 0 ? 1e-6 : -1e-6));
                    }
                    predicted += QuantizationBounds.rowError2(t, x);
                    float[] y = Quantizer.dequantize(t, Quantizer.quantize(t, x));
                    for (int i = 0; i < x.length; i++) {
                        realized += (double) (y[i] - x[i]) * (y[i] - x[i]);
                    }
                }
                double ratio = Math.sqrt(realized / predicted);
                assertTrue(ratio <= 1.05 && ratio >= 0.5, dist + " " + t + ": realized / predicted RMS error " + ratio);
            }
        }
    }

    @Test
    void activationsInBlocksOf32Or256() {
        double r32 = Math.sqrt(32) / 127 / Math.sqrt(12);
        double r256 = Math.sqrt(256) / 127 / Math.sqrt(12);
        for (DType t : List.of(DType.Q8_0, DType.Q4_0, DType.Q5_0, DType.Q4_1, DType.Q5_1)) {
            assertEquals(r32 * r32, QuantizationBounds.activationError2(t), 1e-15, t.name());
        }
        for (DType t : List.of(DType.Q4_K, DType.Q5_K, DType.Q6_K)) {
            assertEquals(r256 * r256, QuantizationBounds.activationError2(t), 1e-15, t.name());
        }
        for (DType t : List.of(DType.F32, DType.F16, DType.BF16, DType.Q8_1, DType.Q8_K)) {
            assertEquals(0, QuantizationBounds.activationError2(t), t.name());
        }
    }

    @Test
    void klOfTwoOutcomes() {
        // p = (1/2, 1/2), q = (3/4, 1/4): KL = 1/2 ln(2/3) + 1/2 ln 2
        double kl = DistributionCompare.kl(new float[] {0, 0}, new float[] {(float) Math.log(3), 0}, 0, 2);
        assertEquals(0.5 * Math.log(2.0 / 3) + 0.5 * Math.log(2), kl, 1e-7);
        assertEquals(0, DistributionCompare.kl(new float[] {1, 2, 3}, new float[] {11, 12, 13}, 0, 3), 1e-12);
    }

    @Test
    void comparisonPassesWithinTheBoundAndNamesWhatBreaksIt() {
        QuantizationBounds b = QuantizationBounds.withRho(0.01);
        int v = 1000;
        float[] ref = new float[2 * v];
        SplittableRandom rnd = new SplittableRandom(3);
        for (int i = 0; i < ref.length; i++) {
            ref[i] = (float) rnd.nextGaussian();
        }
        ref[7] = 10; // a decisive winner at position 0
        long[] shape = {2, v};
        // D ≈ t(1000) * 0.01 * rms(ref) + tolerance ≈ 0.067
        float[] close = ref.clone();
        close[8] += 0.03f;
        DistributionCompare.Result ok = DistributionCompare.compare("c", "logits", shape, close, ref, null, b);
        assertTrue(ok.pass(), ok.text());
        assertEquals(2, ok.positions());
        assertTrue(ok.decisive() >= 1 && ok.decisiveTop1() == ok.decisive());
        assertTrue(ok.klMax() <= ok.klMaxBound() && ok.relErr() <= ok.relErrBound());

        float[] far = ref.clone();
        far[v + 3] += 0.5f;
        DistributionCompare.Result bad = DistributionCompare.compare("c", "logits", shape, far, ref, null, b);
        assertFalse(bad.pass());
        assertTrue(bad.firstFailure().startsWith("at position 1: max|Δz|"), bad.firstFailure());
        assertEquals(1, bad.failures());

        DistributionCompare.Result masked = DistributionCompare.compare("c", "logits", shape, far, ref,
                new boolean[] {true, false}, b);
        assertTrue(masked.pass(), masked.text());
        assertEquals(1, masked.positions());
    }
}
