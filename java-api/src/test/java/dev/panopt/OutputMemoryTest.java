package dev.panopt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Output blocks: small outputs share an arena that is freed once it is full and all of its outputs
 * are released (one JVM handshake per block); large ones get their own; views throw at release
 * even while the block lives on.
 */
class OutputMemoryTest {
    static Backend backend;
    static OptForCausalLM model;

    @BeforeAll
    static void load() throws Exception {
        backend = Backend.create(BackendOptions.builder().threads(2).build());
        model = OptForCausalLM.fromPretrained(OptForCausalLMTest.PRELN, LoadOptions.builder().backend(backend).build());
    }

    @AfterAll
    static void close() {
        model.close();
        backend.close();
    }

    /** A lease as a forward makes one: placed, then registered (counted in NativeMemory first). */
    private static OutputMemory.Lease lease(OutputMemory m, long bytes, List<Object> referents) {
        OutputMemory.Lease l = m.place(bytes);
        l.arena().allocate(bytes == 0 ? 1 : bytes);
        NativeMemory.reserve(NativeMemory.Kind.OUTPUT, bytes);
        Object referent = new Object();
        referents.add(referent);
        l.register(referent);
        return l;
    }

    @Test
    void smallLeasesShareABlockFreedWhenFullAndAllReleased() {
        OutputMemory m = new OutputMemory();
        List<Object> keep = new ArrayList<>();
        List<OutputMemory.Lease> first = new ArrayList<>();
        for (int i = 0; i < OutputMemory.BLOCK_LEASES; i++) {
            first.add(lease(m, 1000 + i, keep));
        }
        for (OutputMemory.Lease l : first) {
            assertSame(first.get(0).arena(), l.arena(), "small leases share one block");
        }
        OutputMemory.Lease next = lease(m, 1000, keep);
        assertNotSame(first.get(0).arena(), next.arena(), "a full block takes no more leases");
        assertEquals(OutputMemory.BLOCK_LEASES + 1, m.openLeases());

        for (int i = 0; i < first.size() - 1; i++) {
            first.get(i).close();
            assertTrue(first.get(i).isReleased(), "released at once");
            assertTrue(first.get(0).arena().scope().isAlive(), "a block lives while any of its leases does");
        }
        first.getLast().close();
        assertFalse(first.get(0).arena().scope().isAlive(), "the last release of a full block frees it");
        assertTrue(next.arena().scope().isAlive());
        first.getLast().close(); // idempotent
        assertEquals(1, m.openLeases());

        m.closeAll();
        assertTrue(next.isReleased());
        assertFalse(next.arena().scope().isAlive(), "the session's close frees the block in use");
        assertEquals(0, m.openLeases());
    }

    @Test
    void aBlockIsFullAfterItsBytes() {
        OutputMemory m = new OutputMemory();
        List<Object> keep = new ArrayList<>();
        long each = OutputMemory.BLOCK_BYTES / 4; // within SHARE_MAX: shared
        OutputMemory.Lease a = lease(m, each, keep);
        for (int i = 0; i < 3; i++) {
            assertSame(a.arena(), lease(m, each, keep).arena());
        }
        assertNotSame(a.arena(), lease(m, each, keep).arena(), "full at BLOCK_BYTES");
        m.closeAll();
        assertFalse(a.arena().scope().isAlive());
    }

    @Test
    void largeLeasesOwnTheirArena() {
        OutputMemory m = new OutputMemory();
        List<Object> keep = new ArrayList<>();
        OutputMemory.Lease small = lease(m, 100, keep);
        OutputMemory.Lease big = lease(m, OutputMemory.SHARE_MAX + 1, keep);
        assertNotSame(small.arena(), big.arena());
        big.close();
        assertFalse(big.arena().scope().isAlive(), "freed at its release");
        assertTrue(small.arena().scope().isAlive());
        m.closeAll();
        assertFalse(small.arena().scope().isAlive());
    }

    @Test
    void anUnregisteredLeaseFreedAfterAFailedForwardLeavesItsBlock() {
        OutputMemory m = new OutputMemory();
        List<Object> keep = new ArrayList<>();
        OutputMemory.Lease failed = m.place(100);
        failed.free();
        assertTrue(failed.isReleased());
        OutputMemory.Lease live = lease(m, 100, keep);
        m.closeAll();
        assertTrue(live.isReleased());
        assertFalse(live.arena().scope().isAlive(), "a block whose every lease was released is freed at close");
        assertEquals(0, m.openLeases());
    }

    @Test
    void forwardsFreeTheirBlocksAndViewsThrowAtClose() {
        long outputs = NativeMemory.liveOutputs();
        try (Session s = model.newSession(SessionOptions.builder().build())) {
            ForwardRequest first = ForwardRequest.inputIds(new int[][] {{2}}).session(s).build();
            CausalLMOutput out = model.forwardLast(first);
            FloatTensor logits = out.logits();
            MemorySegment raw = logits.segment();
            float v = raw.getAtIndex(ValueLayout.JAVA_FLOAT, 3);
            out.close();
            assertFalse(logits.isAlive());
            assertThrows(IllegalStateException.class, () -> logits.getFlat(3));
            assertThrows(IllegalStateException.class, logits::segment);
            // A segment taken before the close reads the (unchanged, not yet freed) block ...
            assertEquals(v, raw.getAtIndex(ValueLayout.JAVA_FLOAT, 3));
            for (int i = 0; i < OutputMemory.BLOCK_LEASES; i++) {
                ForwardRequest step = ForwardRequest.inputIds(new int[][] {{3 + i}}).session(s).build();
                try (CausalLMOutput o = model.forwardLast(step)) {
                    assertTrue(o.logits().isAlive());
                }
            }
            // ... until the block is full and all of its outputs are closed.
            assertFalse(raw.scope().isAlive(), "the first block was never freed");
            assertThrows(IllegalStateException.class, () -> raw.getAtIndex(ValueLayout.JAVA_FLOAT, 3));
            assertEquals(0, s.state().outputs.openLeases());
        }
        assertEquals(outputs, NativeMemory.liveOutputs());
    }
}
