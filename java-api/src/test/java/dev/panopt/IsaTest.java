package dev.panopt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class IsaTest {
    @Test
    void x86LevelsIncludeTheOnesBelowAndNeverNeon() {
        assertTrue(Isa.AVX2.runsOn(Isa.AMX));
        assertTrue(Isa.AVX512_VNNI.runsOn(Isa.AVX512_VNNI));
        assertFalse(Isa.AVX512_VNNI.runsOn(Isa.AVX512));
        assertFalse(Isa.NEON.runsOn(Isa.AMX)); // a higher code, another architecture
        assertTrue(Isa.SCALAR.runsOn(Isa.AVX2));
    }

    @Test
    void neonRunsOnlyBesideScalar() {
        for (Isa i : Isa.values()) {
            boolean expected = i == Isa.AUTO || i == Isa.SCALAR || i == Isa.NEON;
            assertEquals(expected, i.runsOn(Isa.NEON), i.name());
        }
        assertFalse(Isa.NEON.runsOn(Isa.SCALAR));
    }

    @Test
    void availableIsasAreThoseTheBestRuns() {
        Isa best = Panopt.bestIsa();
        List<Isa> all = Panopt.availableIsas();
        assertTrue(all.contains(Isa.SCALAR) && all.contains(best));
        assertFalse(all.contains(Isa.AUTO));
        for (Isa i : all) {
            assertTrue(i.runsOn(best), i.name());
        }
    }

    @Test
    void codesRoundTrip() {
        for (Isa i : Isa.values()) {
            assertEquals(i, Isa.ofCode(i.code));
        }
    }
}
