package dev.panopt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Each iteration against the floor at its own readings, split by where the vCPUs were (BracketedFloor). */
class BracketedFloorTest {
    /** Steps of 1 ms, then of 2 ms: 100 MB a step is 100 GB/s, then 50 GB/s. */
    private static final long[] STEPS = {1_000_000, 1_000_000, 2_000_000, 2_000_000, 1_000_000, 1_000_000};

    @Test
    void eachIterationAtTheMeanOfItsTwoReadings() {
        List<LatencyLog.Bracket> b = List.of(
                new LatencyLog.Bracket(100, 100, 30, 40, 0, 2),  // 100 GB/s at 100: 1.0, sharing an L3
                new LatencyLog.Bracket(90, 110, 200, 250, 2, 4), // 50 GB/s at 100: 0.5, not sharing one
                new LatencyLog.Bracket(120, 80, 40, 300, 4, 6)); // 100 at 100: 1.0, the placement changed
        BracketedFloor f = BracketedFloor.of(b, STEPS, 1, 100e6, 0);
        assertEquals(3, f.iterations());
        assertEquals(1.0, f.fraction(), 1e-12);
        assertEquals(1, f.sharedCount());
        assertEquals(1.0, f.sharedL3(), 1e-12);
        assertEquals(1, f.separateCount());
        assertEquals(0.5, f.separateL3(), 1e-12);
        assertEquals((40 + 200) / 2.0, f.handoffNs(), 1e-12); // the median of 30, 40, 200, 250, 40, 300
        assertTrue(f.note().contains("median 100% of that floor over 3 iterations; sharing an L3 (hand-off < 100 ns) 100% over 1; "
                + "not sharing one 50% over 1; hand-off median 120 ns"), f.note());
    }

    @Test
    void theComputeFloorWhereItIsHigher() {
        // 2 rows a step, 1 ms a step against a compute floor of 2 ms: 2.0 of it
        BracketedFloor f = BracketedFloor.of(List.of(new LatencyLog.Bracket(50, 50, 10, 10, 0, 2)), STEPS, 2, 1e6, 2e-3);
        assertEquals(2.0, f.fraction(), 1e-12);
    }

    @Test
    void incompleteIterationsAreLeftOut() {
        List<LatencyLog.Bracket> b = List.of(
                new LatencyLog.Bracket(100, Double.NaN, 30, Double.NaN, 0, 2), // no reading after
                new LatencyLog.Bracket(100, 100, 30, 30, 2, 2),                 // no steps
                new LatencyLog.Bracket(100, 100, 30, 30, 4, 9));                // past the log's end
        assertSame(BracketedFloor.NONE, BracketedFloor.of(b, STEPS, 1, 100e6, 0));
    }

    @Test
    void readingsGoByTheirOwnHandOff() {
        List<Double> shared = new java.util.ArrayList<>(), separate = new java.util.ArrayList<>();
        BracketedFloor.readingsByPlacement(List.of(new LatencyLog.Bracket(31, 55, 40, 180, 0, 2),
                new LatencyLog.Bracket(33, Double.NaN, 99, Double.NaN, 2, 4)), shared, separate);
        assertEquals(List.of(31.0, 33.0), shared);
        assertEquals(List.of(55.0), separate);
    }

    @Test
    void bracketsRoundTripAndOldFilesParse() {
        LatencyLog.Bracket b = new LatencyLog.Bracket(31.5, Double.NaN, 42.25, Double.NaN, 3, 17);
        assertEquals(b, LatencyLog.Bracket.parse(b.line()));
        LatencyLog.Bracket old = LatencyLog.Bracket.parse("33.7");
        assertEquals(33.7, old.beforeGbps());
        assertTrue(Double.isNaN(old.afterGbps()));
        assertThrows(IllegalArgumentException.class, () -> LatencyLog.Bracket.parse("1 2 3"));
    }
}
