package dev.panopt.conformance;

import dev.panopt.DType;
import dev.panopt.LoadReport;
import dev.panopt.Quantization.TensorClass;
import dev.panopt.checkpoint.Checkpoint;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The error a model with quantized weights may show in its logits, derived from the step sizes of
 * the formats its weights are stored in ({@link LoadReport}) and from the 8-bit quantization of the
 * activations the kernels do, never from observed outputs. Immutable.
 *
 * <h2>Derivation</h2>
 *
 * <p><b>1. Weights.</b> A block format rounds each element of a block to a grid of step {@code s}
 * set by the block (ggml's reference quantizers, native/src/quant): Q8_0 {@code amax/127}; Q4_0,
 * Q5_0 {@code amax/8}, {@code amax/16} (levels -8..7 of {@code d = max/-8}, resp. -16..15 of
 * {@code max/-16}, so an element of the sign opposite to the max beyond 7.5 (15.5) steps clamps: its
 * error is {@code |x| - 7|d|}, resp. 15); Q4_1, Q5_1 {@code (max-min)/15}, {@code /31}; Q4_K, Q5_K per sub-block of 32
 * {@code (max - min(min, 0))/15}, {@code /31}, plus the 6-bit rounding of the sub-block scales,
 * which moves a step by at most {@code max_step/126}; Q6_K per sub-block of 16 {@code amax/32} plus
 * the 8-bit rounding of its scale (at most {@code max_step/256}), with Q4_0's clamp rule at level 31;
 * Q8_K {@code amax/127}. Rounding to nearest leaves an error uniform in {@code ±s/2}: variance
 * {@code s²/12}. The f16 block scale adds a relative error of at most 2^-11 to every element.
 * F16 and BF16 round each element to half its ulp (variance {@code ulp²/12}). Summed over the
 * tensor's actual blocks (its values are read from the checkpoint), this gives the tensor's relative
 * RMS error {@code ρ_w = sqrt(Σ err²) / sqrt(Σ w²)}.
 *
 * <p><b>2. Activations.</b> A product with a Q* weight first quantizes each activation row per block
 * of {@code n} = 32 (Q8_0 for Q8_0/Q4_0/Q5_0, Q8_1 for Q4_1/Q5_1) or 256 (Q8_K for the K-quants) to
 * int8 with step {@code amax/127}: error {@code amax/254} at most, variance {@code amax²/(12·127²)}.
 * Relative to the block's RMS this is {@code crest/(127·√12)}, and a block's crest factor
 * {@code amax/rms} is at most {@code √n}, so {@code ρ_x = √n/(127·√12)}: 0.0129 for blocks of 32,
 * 0.0364 for 256. (Products with F32/F16/BF16 weights, and embedding lookups, stay in f32: no
 * {@code ρ_x}.) With a session's compute type BF16 (bf16 products in prompts), a product with F32/F16/BF16
 * weights rounds both factors to bf16: the weight as step 1's BF16 rounding of its values, and each
 * activation by at most half an ulp of 8 significant bits, {@code ulp ≤ 2^-7·|x|}: variance at most
 * {@code (2^-7 x)²/12}, {@code ρ_x = 2^-7/√12} (2.26e-3); a decode step stays f32, so the bound
 * overstates its error.
 *
 * <p><b>3. One linear.</b> {@code y = W x}: independent zero-mean errors in {@code W} and {@code x}
 * give a relative RMS output error {@code r² = ρ_w² + ρ_x²} (to first order).
 *
 * <p><b>4. The network.</b> First-order propagation with independent errors: each weight's error
 * reaches the logits through the residual stream, LayerNorm (scale-invariant) and the linears after
 * it with unit gain, and errors of different weights add in quadrature: {@code ρ_z² = Σ g² r²} over
 * every weight on the path — q, k, v, out_proj, fc1, fc2 of each layer, project_in/out, the token
 * (and position) embedding lookups and the head (a tied head counts twice: lookup and head). The
 * gain is 1, except {@code g² = 2} for fc1, whose error passes the activation (ReLU keeps all of the
 * error but about half of the signal). Unit gain does not credit the dilution of a branch's error by
 * the residual stream it is added to (conservative), and it assumes attention scores of order one
 * (q and k errors enter through the softmax).
 *
 * <p><b>5. Logits.</b> The model is about norms of whole outputs, so the error {@code Δz} of a
 * logits tensor has RMS {@code σ = ρ_z · rms(z)}, the RMS taken over all its compared positions
 * (a single position's logits can sum to nearly nothing, e.g. a regression output near 0, while
 * its error still scales with the terms). At a position with {@code V} entries, as a sum of many independent
 * contributions it is Gaussian, and a union bound over the {@code 2V} tails gives
 * {@code max|Δz| ≤ D = t·σ} with {@code t = sqrt(2 ln(2V/α))}, {@code α = 1e-6} per position. The
 * float32 reference tolerance of the conformance suite ({@code 2e-4 + 2e-4·max|z|}) is added to
 * {@code D}. From {@code D}, exactly:
 * <ul>
 *   <li>relative logit error {@code max|Δz| / max|z| ≤ D / max|z|};
 *   <li>KL divergence of the next-token distributions {@code KL(p_ref || p_quant) ≤ D²/2} (KL equals
 *       {@code ∫(1-t) Var_{q_t}(Δz) dt} along the path from {@code z} to {@code z + Δz}, and a
 *       variable within {@code [-D, D]} has variance at most {@code D²}); the mean bound is the mean of
 *       the positions' bounds;
 *   <li>top-1 agreement wherever the reference's margin between its two best entries exceeds
 *       {@code 2D} (no error within {@code ±D} can swap them); closer positions may disagree.
 * </ul>
 *
 * <p><b>Checks, not fits.</b> None of the constants above was chosen from results. Step 1 is checked
 * against the native quantizers in QuantizationBoundsTest (the realized error is 0.7 to 1.0 times
 * the model's). Steps 3-4 are approximations: on the fixture cases the observed {@code ρ_z} is 0.3 to
 * 1.6 times the prediction (unit gain understates the smallest models, hidden size 32, with F16/BF16
 * weights; the crest bound of step 2 overstates the activations' share), on a 12-layer OPT-125m-shaped
 * model 0.15 to 0.3 times (the residual dilution it does not credit); the Gaussian tail of step 5
 * carries the rest.
 */
final class QuantizationBounds {
    /** Tail probability per position of the Gaussian bound on max|Δz|. */
    static final double ALPHA = 1e-6;
    /** The float32 reference tolerance of the conformance suite (Compare.Tolerance.FLOAT32). */
    private static final Compare.Tolerance F32 = Compare.Tolerance.FLOAT32;
    private static final double F16_SCALE_REL = 0x1p-11;
    private static final double INV_SQRT12 = 1 / Math.sqrt(12);
    /** ρ_x² of an activation rounded to bf16 (step 2): (2^-7/√12)². */
    private static final double BF16_ACTIVATION2 = 0x1p-14 / 12;

    private final double rhoLogits;
    private final List<String> largest;

    private QuantizationBounds(double rhoLogits, List<String> largest) {
        this.rhoLogits = rhoLogits;
        this.largest = largest;
    }

    /**
     * The bounds of a loaded model.
     *
     * @param checkpoint the checkpoint the model was loaded from (the source values of each weight)
     * @param report     what the model stores each weight as
     */
    static QuantizationBounds of(Checkpoint checkpoint, LoadReport report) {
        return of(checkpoint, report, false);
    }

    /**
     * The bounds of a loaded model whose sessions may multiply in bf16.
     *
     * @param checkpoint   the checkpoint the model was loaded from (the source values of each weight)
     * @param report       what the model stores each weight as
     * @param bf16Products whether products with F32/F16/BF16 weights round both factors to bf16 (a
     *                     session's compute type BF16)
     */
    static QuantizationBounds of(Checkpoint checkpoint, LoadReport report, boolean bf16Products) {
        double sum = 0;
        List<double[]> parts = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (LoadReport.TensorFormat t : report.tensors()) {
            boolean floatProduct = bf16Products && !t.stored().isQuantized();
            if (t.tensorClass().isEmpty() || !(t.converted() || floatProduct)) {
                continue; // vectors and kept weights are exact
            }
            TensorClass c = t.tensorClass().get();
            double rhoW2 = t.converted() ? weightError2(checkpoint, t, t.stored()) : 0; // as stored
            double rhoX2 = activationError2(t.stored());
            double prodW2 = rhoW2 + (floatProduct ? weightError2(checkpoint, t, DType.BF16) : 0); // as multiplied
            double prodX2 = rhoX2 + (floatProduct ? BF16_ACTIVATION2 : 0);
            double contribution = switch (c) {
                case EMBED_TOKENS, EMBED_POSITIONS -> rhoW2;                          // lookups, in f32
                case LM_HEAD -> t.name().equals("lm_head.weight") ? prodW2 + prodX2   // untied head
                        : rhoW2 + (prodW2 + prodX2);                                  // tied: lookup + head
                case FC1 -> 2 * (prodW2 + prodX2);
                default -> prodW2 + prodX2;
            };
            rhoW2 = prodW2;
            rhoX2 = prodX2;
            sum += contribution;
            parts.add(new double[] {contribution, names.size()});
            names.add(String.format(Locale.ROOT, "%s %s ρ_w=%.2e ρ_x=%.2e", t.name(), t.stored(), Math.sqrt(rhoW2),
                    Math.sqrt(rhoX2)));
        }
        parts.sort((a, b) -> Double.compare(b[0], a[0]));
        List<String> top = new ArrayList<>();
        for (int i = 0; i < Math.min(3, parts.size()); i++) {
            top.add(names.get((int) parts.get(i)[1]));
        }
        return new QuantizationBounds(Math.sqrt(sum), List.copyOf(top));
    }

    /** Bounds for a given ρ_z (e.g. of a model whose weights are not at hand). */
    static QuantizationBounds withRho(double rhoLogits) {
        return new QuantizationBounds(rhoLogits, List.of());
    }

    /** {@return the predicted relative RMS error of the logits, ρ_z} */
    double rhoLogits() {
        return rhoLogits;
    }

    /** {@return the (up to three) weights contributing most to ρ_z, with their ρ_w and ρ_x} */
    List<String> largestContributions() {
        return largest;
    }

    /** {@return t = sqrt(2 ln(2V/α)): the Gaussian tail factor of the max over V logits} */
    static double tailFactor(int v) {
        return Math.sqrt(2 * Math.log(2.0 * v / ALPHA));
    }

    /**
     * The bound D on {@code max|Δz|} at a position with {@code v} logits whose largest magnitude is
     * {@code maxAbs}, in a tensor whose reference logits have RMS {@code rms}.
     */
    double maxAbsError(double rms, double maxAbs, int v) {
        return tailFactor(v) * rhoLogits * rms + F32.atol() + F32.rtol() * maxAbs;
    }

    // ---------------------------------------------------------------- step 1: weights

    /** ρ_w² of one weight rounded to {@code as}: expected squared rounding error over the squared norm of its source values. */
    private static double weightError2(Checkpoint checkpoint, LoadReport.TensorFormat t, DType as) {
        Optional<Checkpoint.CheckpointTensor> src = checkpoint.find(t.name());
        int cols = Math.toIntExact(t.cols());
        long rows = t.numel() / cols;
        if (src.isEmpty()) {
            // A new head, not in the checkpoint: the worst block (crest √n) for its format.
            return worstCaseWeightError2(as);
        }
        MemorySegment data = src.get().data();
        DType type = src.get().dtype();
        float[] row = new float[cols];
        short[] halves = new short[cols];
        double err = 0;
        double norm = 0;
        for (long r = 0; r < rows; r++) {
            readRow(data, type, r * cols, row, halves);
            for (float v : row) {
                norm += (double) v * v;
            }
            err += rowError2(as, row);
        }
        return norm == 0 ? 0 : err / norm;
    }

    /** Elements {@code from .. from + row.length} of a stored F32, F16 or BF16 tensor. */
    private static void readRow(MemorySegment s, DType t, long from, float[] row, short[] halves) {
        switch (t) {
            case F32 -> MemorySegment.copy(s, ValueLayout.JAVA_FLOAT_UNALIGNED, 4 * from, row, 0, row.length);
            case F16, BF16 -> {
                MemorySegment.copy(s, ValueLayout.JAVA_SHORT_UNALIGNED, 2 * from, halves, 0, row.length);
                for (int i = 0; i < row.length; i++) {
                    row[i] = t == DType.F16 ? Float.float16ToFloat(halves[i]) : Float.intBitsToFloat(halves[i] << 16);
                }
            }
            default -> throw new IllegalArgumentException("source weights are F32, F16 or BF16, not " + t);
        }
    }

    /** Σ over a row of the expected squared error of storing it as {@code t}. */
    static double rowError2(DType t, float[] x) {
        return switch (t) {
            case F32 -> 0;
            case F16 -> ulpError2(x, 10, -14);
            case BF16 -> ulpError2(x, 7, -126);
            case Q8_0, Q8_1 -> symmetric(x, 32, 127, 0) + scaleError2(x);
            case Q4_0 -> symmetric(x, 32, 8, 7) + scaleError2(x);
            case Q5_0 -> symmetric(x, 32, 16, 15) + scaleError2(x);
            case Q4_1 -> affine(x, 15) + scaleError2(x);
            case Q5_1 -> affine(x, 31) + scaleError2(x);
            case Q4_K -> kAffine(x, 15) + scaleError2(x);
            case Q5_K -> kAffine(x, 31) + scaleError2(x);
            case Q6_K -> q6K(x) + scaleError2(x);
            case Q8_K -> symmetric(x, 256, 127, 0); // f32 scale
            default -> throw new IllegalArgumentException("not a weight format: " + t);
        };
    }

    /** Rounding to {@code mantissaBits} (normal) with the smallest normal exponent {@code minExp}: (ulp/2)² uniform. */
    private static double ulpError2(float[] x, int mantissaBits, int minExp) {
        double e = 0;
        for (float v : x) {
            int exp = Math.max(Math.getExponent(v), minExp);
            double ulp = Math.scalb(1.0, exp - mantissaBits);
            e += ulp * ulp / 12;
        }
        return e;
    }

    /** The f16 block scale's relative error 2^-11 on every element. */
    private static double scaleError2(float[] x) {
        double e = 0;
        for (float v : x) {
            e += (double) v * v;
        }
        return e * F16_SCALE_REL * F16_SCALE_REL;
    }

    /**
     * ggml's symmetric block formats: {@code d = amax/levels}; with {@code clampLevel > 0} the grid is
     * {@code -levels..clampLevel} on the side of the block's max, so elements of the other sign
     * beyond {@code clampLevel + 1/2} steps clamp to {@code clampLevel} steps.
     */
    private static double symmetric(float[] x, int block, int levels, int clampLevel) {
        double e = 0;
        for (int b = 0; b < x.length; b += block) {
            float max = signedMax(x, b, block);
            e += symmetricBlock(x, b, block, max, Math.abs(max) / levels, clampLevel);
        }
        return e;
    }

    /** The element of largest magnitude of {@code x[from..from+n)}, with its sign. */
    private static float signedMax(float[] x, int from, int n) {
        float max = 0;
        for (int i = from; i < from + n; i++) {
            if (Math.abs(x[i]) > Math.abs(max)) {
                max = x[i];
            }
        }
        return max;
    }

    /** Σ squared error of one symmetric block of step {@code s} whose signed max is {@code max} (see {@link #symmetric}). */
    private static double symmetricBlock(float[] x, int from, int n, float max, double s, int clampLevel) {
        double e = 0;
        for (int i = from; i < from + n; i++) {
            boolean opposite = clampLevel > 0 && (x[i] > 0) != (max > 0) && x[i] != 0;
            if (opposite && Math.abs(x[i]) > (clampLevel + 0.5) * s) {
                double c = Math.abs(x[i]) - clampLevel * s;
                e += c * c;
            } else {
                e += s * s / 12;
            }
        }
        return e;
    }

    /** Q4_1/Q5_1: blocks of 32, step {@code (max - min)/levels}. */
    private static double affine(float[] x, int levels) {
        double e = 0;
        for (int b = 0; b < x.length; b += 32) {
            float min = Float.POSITIVE_INFINITY;
            float max = Float.NEGATIVE_INFINITY;
            for (int i = b; i < b + 32; i++) {
                min = Math.min(min, x[i]);
                max = Math.max(max, x[i]);
            }
            double s = (max - min) / levels;
            e += 32 * s * s / 12;
        }
        return e;
    }

    /** Q4_K/Q5_K: super-blocks of 256, sub-blocks of 32 with step {@code (max - min(min,0))/levels} + 6-bit scale rounding. */
    private static double kAffine(float[] x, int levels) {
        double e = 0;
        double[] s = new double[8];
        for (int b = 0; b < x.length; b += 256) {
            double maxStep = 0;
            for (int j = 0; j < 8; j++) {
                float min = Float.POSITIVE_INFINITY;
                float max = Float.NEGATIVE_INFINITY;
                for (int i = b + 32 * j; i < b + 32 * j + 32; i++) {
                    min = Math.min(min, x[i]);
                    max = Math.max(max, x[i]);
                }
                s[j] = (max - Math.min(min, 0f)) / levels;
                maxStep = Math.max(maxStep, s[j]);
            }
            for (int j = 0; j < 8; j++) {
                double step = s[j] + maxStep / 126;
                e += 32 * step * step / 12;
            }
        }
        return e;
    }

    /** Q6_K: super-blocks of 256, sub-blocks of 16, levels -32..31 of {@code amax/32} + 8-bit scale rounding. */
    private static double q6K(float[] x) {
        double e = 0;
        for (int b = 0; b < x.length; b += 256) {
            double maxStep = 0;
            for (int j = 0; j < 16; j++) {
                maxStep = Math.max(maxStep, Math.abs(signedMax(x, b + 16 * j, 16)) / 32);
            }
            for (int j = 0; j < 16; j++) {
                float max = signedMax(x, b + 16 * j, 16);
                e += symmetricBlock(x, b + 16 * j, 16, max, Math.abs(max) / 32 + maxStep / 256, 31);
            }
        }
        return e;
    }

    /** ρ_w² of a format for values not at hand: the uniform error of a block whose crest factor is its maximum, √n. */
    private static double worstCaseWeightError2(DType t) {
        double r = switch (t) {
            case F32 -> 0;
            case F16 -> 0x1p-11;
            case BF16 -> 0x1p-8;
            case Q8_0, Q8_1 -> Math.sqrt(32) / 127 * INV_SQRT12;
            case Q4_0 -> Math.sqrt(32) / 8;     // the clamped element may be a whole step off
            case Q5_0 -> Math.sqrt(32) / 16;
            case Q4_1 -> 2 * Math.sqrt(32) / 15 * INV_SQRT12;
            case Q5_1 -> 2 * Math.sqrt(32) / 31 * INV_SQRT12;
            case Q4_K -> 2 * Math.sqrt(32) / 15 * (1 + 1.0 / 126) * INV_SQRT12;
            case Q5_K -> 2 * Math.sqrt(32) / 31 * (1 + 1.0 / 126) * INV_SQRT12;
            case Q6_K -> Math.sqrt(16) / 32;
            case Q8_K -> Math.sqrt(256) / 127 * INV_SQRT12;
            default -> throw new IllegalArgumentException("not a weight format: " + t);
        };
        return r * r + (t.isQuantized() && t != DType.Q8_K ? F16_SCALE_REL * F16_SCALE_REL : 0);
    }

    // ---------------------------------------------------------------- step 2: activations

    /** ρ_x² of a product with a weight stored as {@code t}: int8 blocks of 32 or 256 with crest at most √n. */
    static double activationError2(DType t) {
        int n = switch (t) {
            case Q8_0, Q4_0, Q5_0, Q4_1, Q5_1 -> 32;
            case Q4_K, Q5_K, Q6_K -> 256;
            default -> 0; // F32, F16, BF16, Q8_1, Q8_K: products in f32
        };
        double r = Math.sqrt(n) / 127 * INV_SQRT12;
        return r * r;
    }
}
