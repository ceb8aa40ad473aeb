package dev.panopt.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A decode trial's speed against the memory floor iteration by iteration: each measurement iteration's
 * tokens/s (from its own steps' mean) over the floor at the mean of the read bandwidths taken just before
 * and just after it, in the trial's own process ({@link LatencyLog.Bracket}). The host's memory bandwidth
 * changes within seconds with where it places the two vCPUs (sharing an L3 or not: 2-thread reads of
 * ~30-34 GB/s against ~40-54 on the project's Zen 4 VMs), so a reading minutes away, or even the one
 * before an iteration alone, may belong to another placement than the iteration's. The thread hand-off
 * latency read with each bandwidth tells the placements apart: iterations with both readings under
 * {@link #SHARED_L3_NS} count as sharing an L3, with both at or over it as not, the rest as changed.
 *
 * @param fraction     the median of the complete iterations' fractions (NaN: none)
 * @param sharedL3     the median over the iterations whose hand-offs were both under {@link #SHARED_L3_NS}
 * @param separateL3   the median over those whose hand-offs were both at or over it
 * @param handoffNs    the median of all hand-off readings
 * @param iterations   complete iterations (both readings and some steps)
 * @param sharedCount  of them, sharing an L3
 * @param separateCount of them, not sharing one
 */
record BracketedFloor(double fraction, double sharedL3, double separateL3, double handoffNs, int iterations,
                      int sharedCount, int separateCount) {
    /**
     * One-way hand-off latency (ns) below which two threads are taken to share an L3: 20-50 ns measured
     * on the project's Zen 4 VMs when they do, 120-350 when they do not.
     */
    static final double SHARED_L3_NS = 100;

    /** No readings (a trial without the probe, or not a decode). */
    static final BracketedFloor NONE = new BracketedFloor(Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0, 0, 0);

    /**
     * The figures for one trial; {@link #NONE} where it has no complete iteration.
     *
     * @param brackets    the trial's readings, one per measurement iteration
     * @param latencies   its step latencies (ns) in the order taken
     * @param batch       rows per step
     * @param stepBytes   bytes a step reads (the memory floor's)
     * @param computeSec  the compute floor's seconds per step (the floor is the larger of the two)
     */
    static BracketedFloor of(List<LatencyLog.Bracket> brackets, long[] latencies, int batch, double stepBytes,
                             double computeSec) {
        List<Double> all = new ArrayList<>(), shared = new ArrayList<>(), separate = new ArrayList<>(), handoffs = new ArrayList<>();
        for (LatencyLog.Bracket b : brackets) {
            if (!b.complete() || b.end() > latencies.length) {
                continue;
            }
            double sum = 0;
            for (int i = b.first(); i < b.end(); i++) {
                sum += latencies[i];
            }
            double tps = batch * 1e9 / (sum / (b.end() - b.first()));
            double gbps = (b.beforeGbps() + b.afterGbps()) / 2;
            double floorTps = batch / Math.max(stepBytes / (gbps * 1e9), computeSec);
            double f = tps / floorTps;
            all.add(f);
            if (b.beforeHandoffNs() < SHARED_L3_NS && b.afterHandoffNs() < SHARED_L3_NS) {
                shared.add(f);
            } else if (b.beforeHandoffNs() >= SHARED_L3_NS && b.afterHandoffNs() >= SHARED_L3_NS) {
                separate.add(f);
            }
            for (double h : new double[] {b.beforeHandoffNs(), b.afterHandoffNs()}) {
                if (!Double.isNaN(h)) {
                    handoffs.add(h);
                }
            }
        }
        if (all.isEmpty()) {
            return NONE;
        }
        return new BracketedFloor(Report.Machine.median(all), Report.Machine.median(shared), Report.Machine.median(separate),
                Report.Machine.median(handoffs), all.size(), shared.size(), separate.size());
    }

    /** Every bandwidth reading of {@code brackets} with its hand-off, into {@code shared} (under SHARED_L3_NS) or {@code separate}. */
    static void readingsByPlacement(List<LatencyLog.Bracket> brackets, List<Double> shared, List<Double> separate) {
        for (LatencyLog.Bracket b : brackets) {
            for (double[] r : new double[][] {{b.beforeGbps(), b.beforeHandoffNs()}, {b.afterGbps(), b.afterHandoffNs()}}) {
                if (!Double.isNaN(r[0]) && !Double.isNaN(r[1])) {
                    (r[1] < SHARED_L3_NS ? shared : separate).add(r[0]);
                }
            }
        }
    }

    /** The report's note: the median fraction, and per placement where there were iterations of it. */
    String note() {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
                "each iteration at the mean of reads just before and after it: median %s of that floor over %d iteration%s",
                Report.pct(fraction), iterations, iterations == 1 ? "" : "s"));
        if (sharedCount > 0) {
            b.append(String.format(Locale.ROOT, "; sharing an L3 (hand-off < %.0f ns) %s over %d", SHARED_L3_NS,
                    Report.pct(sharedL3), sharedCount));
        }
        if (separateCount > 0) {
            b.append(String.format(Locale.ROOT, "; not sharing one %s over %d", Report.pct(separateL3), separateCount));
        }
        return b.append(String.format(Locale.ROOT, "; hand-off median %.0f ns", handoffNs)).toString();
    }
}
