package dev.panopt.conformance;

import java.util.Arrays;
import java.util.Locale;

/**
 * Compares logits computed with quantized weights with the float32 reference, position by position
 * (a position is one vector over the last dimension: a token's next-token logits, a sequence's
 * class logits, a row's start or end logits), against {@link QuantizationBounds}.
 */
final class DistributionCompare {
    private DistributionCompare() {}

    /**
     * One compared tensor.
     *
     * @param positions       positions compared (masked ones are left out)
     * @param klMean          mean over positions of KL(p_ref || p_quant), p = softmax of the logits
     * @param klMeanBound     the mean of the positions' KL bounds
     * @param klMax           the largest KL
     * @param klMaxBound      the KL bound at the position of the largest KL
     * @param top1            positions whose argmax agrees with the reference's
     * @param decisive        positions whose reference margin exceeds twice the error bound
     * @param decisiveTop1    decisive positions whose argmax agrees (must be all)
     * @param relErr          the largest relative logit error, max|Δz| / max|z| at a position
     * @param relErrBound     its bound at that position
     * @param headroom        the largest max|Δz| / D over positions (≤ 1 passes)
     * @param rho             the observed relative RMS error ||Δz|| / ||z|| over the compared positions
     * @param rhoPredicted    its prediction, {@link QuantizationBounds#rhoLogits()}
     * @param failures        positions breaking a bound
     * @param firstFailure    the first of them, described, or null
     */
    record Result(String call, String name, long[] shape, int positions, double klMean, double klMeanBound,
                  double klMax, double klMaxBound, int top1, int decisive, int decisiveTop1, double relErr,
                  double relErrBound, double headroom, double rho, double rhoPredicted, long failures,
                  String firstFailure) {
        boolean pass() {
            return failures == 0;
        }

        String text() {
            return String.format(Locale.ROOT,
                    "%-4s %-10s %-22s %-16s %4d pos  KL mean %.2e (bound %.2e) max %.2e (bound %.2e)  top-1 %d/%d "
                            + "(decisive %d/%d)  rel-logit-err %.2e (bound %.2e)  headroom %.2f  ρ %.2e (predicted %.2e)%s",
                    pass() ? "PASS" : "FAIL", call, name, Arrays.toString(shape), positions, klMean, klMeanBound, klMax,
                    klMaxBound, top1, positions, decisiveTop1, decisive, relErr, relErrBound, headroom, rho, rhoPredicted,
                    pass() ? "" : "  " + failures + " position(s) over a bound, first " + firstFailure);
        }
    }

    /**
     * Compares {@code got} with {@code ref}, both of {@code shape} (row-major; positions over the
     * last dimension), at the positions {@code include} marks (null: all).
     */
    static Result compare(String call, String name, long[] shape, float[] got, float[] ref, boolean[] include,
                          QuantizationBounds bounds) {
        int v = (int) shape[shape.length - 1];
        int n = ref.length / v;
        if (got.length != ref.length) {
            return failed(call, name, shape, "got " + got.length + " values, expected " + ref.length);
        }
        double ss = 0;
        long counted = 0;
        for (int p = 0; p < n; p++) {
            if (include == null || include[p]) {
                for (int i = p * v; i < (p + 1) * v; i++) {
                    ss += (double) ref[i] * ref[i];
                }
                counted += v;
            }
        }
        double rms = counted == 0 ? 0 : Math.sqrt(ss / counted);
        double diff2 = 0;
        int positions = 0;
        int top1 = 0;
        int decisive = 0;
        int decisiveTop1 = 0;
        long failures = 0;
        String first = null;
        double klSum = 0;
        double klBoundSum = 0;
        double klMax = -1;
        double klMaxBound = 0;
        double relMax = -1;
        double relMaxBound = 0;
        double headroom = 0;
        for (int p = 0; p < n; p++) {
            if (include != null && !include[p]) {
                continue;
            }
            positions++;
            int off = p * v;
            double maxDiff = 0;
            double maxRef = 0;
            int argRef = 0;
            int argGot = 0;
            boolean finite = true;
            for (int i = 0; i < v; i++) {
                float g = got[off + i];
                finite &= Float.isFinite(g);
                diff2 += (g - ref[off + i]) * (double) (g - ref[off + i]);
                maxDiff = Math.max(maxDiff, Math.abs(g - ref[off + i]));
                maxRef = Math.max(maxRef, Math.abs(ref[off + i]));
                if (ref[off + i] > ref[off + argRef]) {
                    argRef = i;
                }
                if (g > got[off + argGot]) {
                    argGot = i;
                }
            }
            double d = bounds.maxAbsError(rms, maxRef, v);
            if (!finite) {
                maxDiff = Double.POSITIVE_INFINITY;
            }
            double kl = finite ? kl(ref, got, off, v) : Double.POSITIVE_INFINITY;
            double klBound = d * d / 2;
            double rel = maxRef == 0 ? maxDiff : maxDiff / maxRef;
            double relBound = maxRef == 0 ? d : d / maxRef;
            boolean isDecisive = margin(ref, off, v, argRef) > 2 * d;
            klSum += kl;
            klBoundSum += klBound;
            if (kl > klMax) {
                klMax = kl;
                klMaxBound = klBound;
            }
            if (rel > relMax) {
                relMax = rel;
                relMaxBound = relBound;
            }
            headroom = Math.max(headroom, maxDiff / d);
            top1 += argRef == argGot ? 1 : 0;
            decisive += isDecisive ? 1 : 0;
            decisiveTop1 += isDecisive && argRef == argGot ? 1 : 0;
            String why = maxDiff > d ? String.format(Locale.ROOT, "max|Δz| %.3e > bound %.3e", maxDiff, d)
                    : kl > klBound ? String.format(Locale.ROOT, "KL %.3e > bound %.3e", kl, klBound)
                    : isDecisive && argRef != argGot ? "argmax " + argGot + " instead of " + argRef + " (margin "
                            + String.format(Locale.ROOT, "%.3e > 2 x %.3e)", margin(ref, off, v, argRef), d)
                    : null;
            if (why != null && failures++ == 0) {
                first = "at position " + p + ": " + why;
            }
        }
        return new Result(call, name, shape, positions, positions == 0 ? 0 : klSum / positions,
                positions == 0 ? 0 : klBoundSum / positions, Math.max(0, klMax), klMaxBound, top1, decisive,
                decisiveTop1, Math.max(0, relMax), relMaxBound, headroom, ss == 0 ? 0 : Math.sqrt(diff2 / ss),
                bounds.rhoLogits(), failures, first);
    }

    /** A comparison that could not be made (wrong size or shape). */
    static Result failed(String call, String name, long[] shape, String why) {
        return new Result(call, name, shape, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, Double.POSITIVE_INFINITY, Double.NaN,
                Double.NaN, 1, why);
    }

    /** KL(softmax(ref) || softmax(got)) at one position, in double. */
    static double kl(float[] ref, float[] got, int off, int v) {
        double mr = Double.NEGATIVE_INFINITY;
        double mg = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < v; i++) {
            mr = Math.max(mr, ref[off + i]);
            mg = Math.max(mg, got[off + i]);
        }
        double sr = 0;
        double sg = 0;
        for (int i = 0; i < v; i++) {
            sr += Math.exp(ref[off + i] - mr);
            sg += Math.exp(got[off + i] - mg);
        }
        double lr = mr + Math.log(sr);
        double lg = mg + Math.log(sg);
        double kl = 0;
        for (int i = 0; i < v; i++) {
            double logP = ref[off + i] - lr;
            double logQ = got[off + i] - lg;
            kl += Math.exp(logP) * (logP - logQ);
        }
        return Math.max(0, kl);
    }

    /** The reference's margin between its best entry and the next; infinite for a single entry. */
    private static double margin(float[] ref, int off, int v, int arg) {
        double second = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < v; i++) {
            if (i != arg) {
                second = Math.max(second, ref[off + i]);
            }
        }
        return ref[off + arg] - second;
    }
}
