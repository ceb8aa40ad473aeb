package dev.panopt;

import java.lang.foreign.Arena;
import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * The native memory of one session's outputs (forward results, cache copies), handed out as
 * {@link Lease}s. Output memory must be readable from any thread and must never be read once
 * freed, so it lives in shared arenas; but closing a shared arena makes the JVM handshake every
 * one of its threads — measured on JDK 25 (2-core Zen 4) at ~80 µs in a bare JVM and ~190 µs with
 * 200 idle threads, more than a whole decode step of a small model. So small outputs share a
 * <em>block</em>: one arena that takes up to {@link #BLOCK_LEASES} outputs or {@link #BLOCK_BYTES}
 * bytes and is closed, with one handshake, once it is full and all of its outputs are released.
 * An output over {@link #SHARE_MAX} bytes gets an arena of its own, freed at its release.
 *
 * <p>A released lease's views throw at once (they check {@link Lease#isReleased()}); its memory
 * is freed with its block, so a session holds at most one block's worth of released outputs per
 * block that still has a live one. Thread-safe: leases are placed under the session's lock and
 * released from any thread (close(), the Cleaner, the session's close).
 */
final class OutputMemory {
    /**
     * Outputs up to this size share blocks: a decode step's logits at OPT's vocabulary up to batch 5
     * (201 KB a row). Larger ones are a forward of a few ms at least, which a handshake barely adds to.
     */
    static final long SHARE_MAX = 1L << 20;
    /**
     * A block is full after this many bytes of outputs (20 batch-1 steps of OPT's logits) ... It is
     * also what an idle session may hold of released outputs (~5% of opt-125m's F16 cache at 2048
     * positions), so it stays small.
     */
    static final long BLOCK_BYTES = 4L << 20;
    /** ... or this many outputs, whichever comes first. */
    static final int BLOCK_LEASES = 64;

    private final Set<Lease> open = Collections.newSetFromMap(new IdentityHashMap<>()); // guarded by this
    private Block current; // the block new small outputs go to; guarded by this

    /** An arena shared by several small outputs. */
    private static final class Block {
        final Arena arena = Arena.ofShared();
        long bytes;
        int leases;
        int live; // leases placed and not yet released
        boolean full; // takes no more leases; closed when live reaches 0

        /** One lease fewer; returns the arena to close if that was the last of a full block. */
        Arena leave() {
            live--;
            return full && live == 0 ? arena : null;
        }
    }

    /**
     * Memory for one output of {@code bytes} (allocate it from {@link Lease#arena()}). The caller
     * {@link Lease#register registers} the lease once the output is written, or {@link Lease#free()
     * frees} it if that fails.
     */
    synchronized Lease place(long bytes) {
        if (bytes > SHARE_MAX) {
            return new Lease(Arena.ofShared(), null, bytes);
        }
        if (current == null) {
            current = new Block();
        }
        Block b = current;
        b.bytes += bytes;
        b.leases++;
        b.live++;
        if (b.bytes >= BLOCK_BYTES || b.leases >= BLOCK_LEASES) {
            b.full = true;
            current = null;
        }
        return new Lease(b.arena, b, bytes);
    }

    /** Releases every registered lease and frees every block (the session's close). */
    void closeAll() {
        List<Lease> leases;
        Arena idle = null;
        synchronized (this) {
            leases = new ArrayList<>(open);
            if (current != null) {
                current.full = true; // its last release closes it
                if (current.live == 0) {
                    idle = current.arena;
                }
                current = null;
            }
        }
        leases.forEach(Lease::close);
        if (idle != null) {
            idle.close();
        }
    }

    /** Outputs registered and not yet released (for tests). */
    synchronized int openLeases() {
        return open.size();
    }

    /**
     * One output's memory: a share of a block or an arena of its own. Released by the output's
     * close(), by the Cleaner once the output is unreachable, or by the session's close.
     */
    final class Lease implements Runnable {
        private final Arena arena;
        private final Block block; // null: the arena is this lease's alone
        private final long bytes;
        private volatile boolean released;
        private volatile boolean explicit;
        private volatile Cleaner.Cleanable cleanable;

        private Lease(Arena arena, Block block, long bytes) {
            this.arena = arena;
            this.block = block;
            this.bytes = bytes;
        }

        /** {@return the arena to allocate the output from (shared with other outputs for small ones)} */
        Arena arena() {
            return arena;
        }

        /** {@return whether the output was released (its views must throw)} */
        boolean isReleased() {
            return released;
        }

        /**
         * Tracks the lease from now on (called once the output is written and counted in
         * {@link NativeMemory}): released when {@code referent} becomes unreachable, if not before.
         */
        void register(Object referent) {
            cleanable = NativeMemory.CLEANER.register(referent, this);
            synchronized (OutputMemory.this) {
                if (!released) {
                    open.add(this);
                }
            }
        }

        /** Releases the output now (idempotent). */
        void close() {
            explicit = true;
            if (cleanable != null) {
                cleanable.clean();
            } else {
                free(); // never registered, so never counted
            }
        }

        /** The cleaning action (runs once): frees the memory and uncounts it. */
        @Override
        public void run() {
            free();
            NativeMemory.released(NativeMemory.Kind.OUTPUT, bytes, !explicit);
        }

        /** Gives the memory back (idempotent); on its own, for an output that was never registered. */
        void free() {
            Arena toClose;
            synchronized (OutputMemory.this) {
                if (released) {
                    return;
                }
                released = true;
                open.remove(this);
                toClose = block == null ? arena : block.leave();
            }
            if (toClose != null) {
                toClose.close(); // outside the lock: the close waits for a handshake
            }
        }
    }
}
