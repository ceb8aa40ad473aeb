package dev.panopt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.GenerationConfig.EarlyStopping;
import java.util.List;
import org.junit.jupiter.api.Test;

/** HF's BeamHypotheses: which hypotheses are kept, the worst score and the three early-stopping rules, by hand. */
class BeamHypothesesTest {
    static List<String> names(List<BeamHypotheses.Entry<String>> l) {
        return l.stream().map(BeamHypotheses.Entry::hypothesis).toList();
    }

    @Test
    void keepsTheBestNumBeamsByLengthPenalisedScore() {
        BeamHypotheses<String> h = new BeamHypotheses<>(2, 1.0, EarlyStopping.FALSE, 10);
        assertEquals(1e9, h.worstScore());
        h.add("A", -4, 2); // -2
        assertEquals(-2, h.worstScore());
        h.add("B", -3, 3); // -1
        assertEquals(-2, h.worstScore());
        h.add("C", -9, 3); // -3: full and worse than the worst: dropped
        assertEquals(2, h.size());
        h.add("D", -3, 2); // -1.5 replaces A
        assertEquals(-1.5, h.worstScore());
        assertEquals(List.of("B", "D"), names(h.best(2)));
        assertEquals(-1.0, h.best(1).get(0).score());
        // length penalty: the sum over the length to that power
        assertEquals(-0.25, new BeamHypotheses<String>(1, 2.0, EarlyStopping.FALSE, 10).score(-4, 4));
        assertEquals(-2.0, new BeamHypotheses<String>(1, 0.5, EarlyStopping.FALSE, 10).score(-4, 4));
        assertEquals(-16.0, new BeamHypotheses<String>(1, -1.0, EarlyStopping.FALSE, 10).score(-4, 4));
    }

    @Test
    void tiesEvictTheEarliestAndPopTheLatest() {
        BeamHypotheses<String> h = new BeamHypotheses<>(2, 1.0, EarlyStopping.FALSE, 10);
        h.add("P", -2, 1);
        h.add("Q", -2, 1);
        h.add("R", -1, 1); // P and Q tie as worst: P, added first, goes
        assertEquals(List.of("R", "Q"), names(h.best(2)));
        assertEquals(-2, h.worstScore());
        BeamHypotheses<String> t = new BeamHypotheses<>(2, 1.0, EarlyStopping.FALSE, 10);
        t.add("S", -1, 1);
        t.add("T", -1, 1);
        assertEquals(List.of("T", "S"), names(t.best(2)), "HF pops the end of a stable ascending sort");
        BeamHypotheses<String> one = new BeamHypotheses<>(1, 1.0, EarlyStopping.FALSE, 10);
        one.add("X", -1, 1);
        one.add("Y", -1, 1); // not better than the worst: dropped
        assertEquals(List.of("X"), names(one.best(1)));
    }

    @Test
    void earlyStoppingRules() {
        for (EarlyStopping e : EarlyStopping.values()) {
            BeamHypotheses<String> h = new BeamHypotheses<>(2, 1.0, e, 10);
            h.add("A", -3, 2);
            assertFalse(h.isDone(-100, 2), e + ": never done before numBeams hypotheses");
        }
        BeamHypotheses<String> f = full(EarlyStopping.FALSE, 1.0); // worst -1.5
        assertFalse(f.isDone(-2.8, 2), "-2.8 / 2 = -1.4 may still beat -1.5");
        assertTrue(f.isDone(-3.2, 2), "-3.2 / 2 = -1.6 cannot");
        assertTrue(full(EarlyStopping.TRUE, 1.0).isDone(0, 1), "True: done as soon as the list is full");
        // "never" with a positive penalty: the best attainable is at max_new_tokens (10)
        BeamHypotheses<String> n = full(EarlyStopping.NEVER, 1.0);
        assertFalse(n.isDone(-3.2, 2), "-3.2 / 10 = -0.32 could still beat -1.5");
        assertTrue(n.isDone(-20, 2), "-20 / 10 = -2");
        // "never" with a negative penalty: at the current length, as False
        BeamHypotheses<String> neg = new BeamHypotheses<>(2, -1.0, EarlyStopping.NEVER, 10);
        neg.add("A", -1, 1); // -1
        neg.add("B", -0.5, 2); // -1
        assertTrue(neg.isDone(-0.5, 2), "-0.5 * 2 = -1 <= worst -1");
        assertFalse(neg.isDone(-0.4, 2), "-0.8 > -1");
    }

    static BeamHypotheses<String> full(EarlyStopping e, double lp) {
        BeamHypotheses<String> h = new BeamHypotheses<>(2, lp, e, 10);
        h.add("B", -3, 3); // -1
        h.add("D", -3, 2); // -1.5
        return h;
    }
}
