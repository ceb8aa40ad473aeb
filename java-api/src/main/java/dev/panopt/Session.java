package dev.panopt;

import dev.panopt.bindings.Native;
import dev.panopt.bindings.PanoptH;
import dev.panopt.bindings.panopt_forward;
import dev.panopt.bindings.panopt_session_cache_info;
import dev.panopt.bindings.panopt_session_copy;
import dev.panopt.bindings.panopt_session_create;
import dev.panopt.bindings.panopt_session_free;
import dev.panopt.bindings.panopt_session_read_cache;
import dev.panopt.bindings.panopt_session_reorder;
import dev.panopt.bindings.panopt_session_reset;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A unit of inference state: the KV cache and native scratch memory (the worker threads belong to
 * the model's {@link Backend} and are shared by all its sessions). Made by a model's
 * {@code newSession}; owned by the caller, who closes it.
 *
 * <p>Thread-safety: a session serialises its own calls (a second thread waits), so it is safe to
 * share but runs one forward at a time; use one session per thread for parallel work. Outputs of a
 * forward stay readable until they are closed, or the session or model is closed.
 *
 * <p>Memory: {@link #close()} frees the native session at once. A session that becomes unreachable
 * unclosed is freed by a {@link java.lang.ref.Cleaner} (see {@link NativeMemory}); an output keeps its
 * session reachable, so an output in use never loses its session that way. Likewise a forward's
 * output memory is freed by the output's {@code close()}, or once no view of it is reachable.
 */
public final class Session implements AutoCloseable {
    private final NativeModel model;
    private final SessionOptions options;
    private final int maxSequenceLength;
    private final State state;

    private Session(NativeModel model, SessionOptions options, int maxSequenceLength, State state) {
        this.model = model;
        this.options = options;
        this.maxSequenceLength = maxSequenceLength;
        this.state = state;
    }

    /**
     * What the session owns: the native handle and the memory of its outputs. It is the session's
     * cleaning action, so it must never refer to the {@link Session} (nor to its model's
     * {@link NativeModel}, which would keep the model reachable from its own sessions).
     */
    static final class State implements Runnable {
        final ReentrantLock lock = new ReentrantLock();
        private final NativeModel.State owner;
        private final long bytes;
        final OutputMemory outputs = new OutputMemory();
        private MemorySegment handle; // guarded by lock
        private Cleaner.Cleanable cleanable;
        private volatile boolean explicit;

        State(NativeModel.State owner, MemorySegment handle, long bytes) {
            this.owner = owner;
            this.handle = handle;
            this.bytes = bytes;
        }

        /** Frees the session now (close(), or its model's close()). Idempotent. */
        void close() {
            explicit = true;
            cleanable.clean();
        }

        /** Frees the native session and every output still open; runs once (close or Cleaner). */
        @Override
        public void run() {
            lock.lock();
            try {
                panopt_session_free.invoke(handle);
                handle = null;
                outputs.closeAll();
            } finally {
                lock.unlock();
            }
            owner.unregister(this);
            NativeMemory.released(NativeMemory.Kind.SESSION, bytes, !explicit);
        }

        boolean isOpen() {
            lock.lock();
            try {
                return handle != null;
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * What every view of one output refers to (its {@link FloatTensor.Lifetime}): while any view is
     * reachable, so are the memory and the session; when none is, the Cleaner releases the memory.
     */
    static final class Owner implements FloatTensor.Lifetime {
        private final Session session; // kept reachable while the output is
        private final OutputMemory.Lease lease;

        Owner(Session session, OutputMemory.Lease lease) {
            this.session = session;
            this.lease = lease;
        }

        /** Tracks the memory from now on; called once the output is written. */
        void register() {
            lease.register(this);
        }

        @Override
        public boolean isReleased() {
            return lease.isReleased();
        }

        /** Releases the output now (idempotent). */
        @Override
        public void release() {
            lease.close();
        }
    }

    static Session create(NativeModel model, SessionOptions options) {
        int maxPos = model.config().maxPositionEmbeddings();
        int maxSeq = options.maxSequenceLength() == 0 ? maxPos : options.maxSequenceLength();
        if (maxSeq > maxPos) {
            throw new IllegalArgumentException("maxSequenceLength " + maxSeq + " exceeds max_position_embeddings "
                    + maxPos);
        }
        try (Arena arena = Arena.ofConfined()) {
            StructLayout L = PanoptH.SESSION_OPTIONS;
            MemorySegment o = arena.allocate(L);
            o.set(ValueLayout.JAVA_INT, PanoptH.offset(L, "struct_size"), (int) L.byteSize());
            o.set(ValueLayout.JAVA_INT, PanoptH.offset(L, "max_batch"), options.maxBatch());
            o.set(ValueLayout.JAVA_INT, PanoptH.offset(L, "max_seq_len"), maxSeq);
            o.set(ValueLayout.JAVA_INT, PanoptH.offset(L, "cache_dtype"), options.kvCacheType().nativeCode());
            o.set(ValueLayout.JAVA_INT, PanoptH.offset(L, "compute_dtype"), options.computeType().nativeCode());
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            long bytes = cacheBytes(model.config(), options.maxBatch(), maxSeq, options.kvCacheType());
            NativeMemory.reserve(NativeMemory.Kind.SESSION, bytes);
            try {
                Native.check(panopt_session_create.invoke(model.handle(), o, out), "panopt_session_create");
            } catch (RuntimeException | Error e) {
                NativeMemory.released(NativeMemory.Kind.SESSION, bytes, false);
                throw e;
            }
            State st = new State(model.state(), out.get(ValueLayout.ADDRESS, 0), bytes);
            Session s = new Session(model, options, maxSeq, st);
            st.cleanable = NativeMemory.CLEANER.register(s, st);
            return s;
        }
    }

    /** The KV cache's size: keys and values per layer, row, head and position, stored as {@code type}. */
    private static long cacheBytes(OptConfig c, int maxBatch, int maxSeq, DType type) {
        long perHead = c.headDim() % type.blockSize() == 0 ? type.bytes(c.headDim()) : 4L * c.headDim();
        return 2L * c.numHiddenLayers() * maxBatch * c.numAttentionHeads() * maxSeq * perHead;
    }

    /** The session's owned state (for its model's bookkeeping). */
    State state() {
        return state;
    }

    /** {@return the options this session was made with} */
    public SessionOptions options() {
        return options;
    }

    /** {@return the cache capacity in positions (past plus new) per row} */
    public int maxSequenceLength() {
        return maxSequenceLength;
    }

    /**
     * Positions currently cached per row (0 after creation or {@link #reset()}).
     *
     * @return the past length
     * @throws IllegalStateException if the session is closed
     */
    public int pastLength() {
        return cacheInfo()[0];
    }

    /**
     * Rows the cache currently holds (0 when empty).
     *
     * @return the cached batch size
     * @throws IllegalStateException if the session is closed
     */
    public int cachedBatch() {
        return cacheInfo()[1];
    }

    private int[] cacheInfo() {
        state.lock.lock();
        try {
            ensureOpen();
            return cacheInfoLockedBoth();
        } finally {
            state.lock.unlock();
        }
    }

    /**
     * A copy of the cache as HF's {@code past_key_values}: per layer, keys and values
     * [batch, heads, past, head_dim] (keys unscaled). Owned by this session until closed.
     *
     * @return the copy; close it to free its memory before the session is closed
     * @throws IllegalStateException if the session is closed
     */
    public PastKeyValues pastKeyValues() {
        state.lock.lock();
        try {
            ensureOpen();
            OptConfig c = model.config();
            int[] info = cacheInfoLockedBoth();
            int past = info[0];
            int batch = info[1];
            long[] shape = {batch, c.numAttentionHeads(), past, c.headDim()};
            long bytes = Math.multiplyExact(Math.multiplyExact(2L * c.numHiddenLayers(), numel(shape)), Float.BYTES);
            OutputMemory.Lease lease = state.outputs.place(bytes);
            Arena out = lease.arena();
            boolean ok = false;
            try {
                List<FloatTensor> keys = new ArrayList<>();
                List<FloatTensor> values = new ArrayList<>();
                Owner owner = new Owner(this, lease);
                for (int l = 0; l < c.numHiddenLayers(); l++) {
                    for (int which = 0; which < 2; which++) {
                        MemorySegment seg = allocFloats(out, shape);
                        Native.check(panopt_session_read_cache.invoke(state.handle, l, which, seg,
                                seg.byteSize() / Float.BYTES), "panopt_session_read_cache");
                        FloatTensor t = new FloatTensor("past." + l + (which == 0 ? ".key" : ".value"), seg, owner,
                                shape);
                        (which == 0 ? keys : values).add(t);
                    }
                }
                NativeMemory.reserve(NativeMemory.Kind.OUTPUT, bytes);
                owner.register();
                ok = true;
                return new PastKeyValues(keys, values);
            } finally {
                if (!ok) {
                    lease.free();
                }
            }
        } finally {
            state.lock.unlock();
        }
    }

    /**
     * A new session of the same model and options holding a copy of this cache (for beam search
     * or trying continuations). The caller closes it (or the model does).
     *
     * @return the new session
     * @throws IllegalStateException if this session or the model is closed
     */
    public Session fork() {
        Session copy = model.newSession(options);
        state.lock.lock();
        try {
            ensureOpen();
            Native.check(panopt_session_copy.invoke(state.handle, copy.state.handle), "panopt_session_copy");
        } catch (RuntimeException | Error e) {
            copy.close();
            throw e;
        } finally {
            state.lock.unlock();
            Reference.reachabilityFence(this);
        }
        return copy;
    }

    /**
     * Reorders the rows of the cache in place, as beam search does after each step (HF's
     * {@code _reorder_cache(past_key_values, beam_idx)}): afterwards the cache holds
     * {@code rows.length} rows, row {@code i} holding what row {@code rows[i]} held before. Rows may
     * repeat, be left out, or outnumber the cached ones (up to {@link SessionOptions#maxBatch()}: a
     * prompt's cache expanded to several beams). Only rows whose source changes are copied.
     *
     * @param rows for each new row, the cached row it takes (in {@code [0, cachedBatch())})
     * @throws IllegalArgumentException if {@code rows} is empty or names a row the cache does not hold
     * @throws IllegalStateException    if the cache is empty, {@code rows} outnumbers maxBatch, or the
     *                                  session is closed
     */
    public void reorderCache(int... rows) {
        java.util.Objects.requireNonNull(rows, "rows");
        if (rows.length == 0) {
            throw new IllegalArgumentException("rows must not be empty");
        }
        state.lock.lock();
        try (Arena arena = Arena.ofConfined()) {
            ensureOpen();
            MemorySegment src = arena.allocateFrom(ValueLayout.JAVA_INT, rows);
            Native.check(panopt_session_reorder.invoke(state.handle, src, rows.length), "panopt_session_reorder");
        } finally {
            state.lock.unlock();
        }
    }

    /** Forgets the cached past. */
    public void reset() {
        state.lock.lock();
        try {
            ensureOpen();
            Native.check(panopt_session_reset.invoke(state.handle), "panopt_session_reset");
        } finally {
            state.lock.unlock();
        }
    }

    /** {@return whether the session is open: true until {@link #close()} (or the model's close)} */
    public boolean isOpen() {
        return state.isOpen();
    }

    /** A validated forward request in flat arrays. */
    record Request(int batch, int seqLen, int[] inputIds, float[] inputsEmbeds, int[] attentionMask,
                   float[] headMask, boolean useCache, int[] headPositions, boolean wantHead,
                   boolean wantHiddenStates, boolean wantLastHidden, boolean wantAttentions) {}

    /**
     * Native results of one forward, owned by {@code arena}; views of it must take {@code owner} as
     * their release action (it keeps the memory reachable, and frees it).
     */
    record Result(Session session, Arena arena, FloatTensor head, List<FloatTensor> hiddenStates, List<FloatTensor> attentions,
                  int pastLength, Owner owner) {}

    /** Runs one forward; the result's arena is registered here and released by the caller or by close(). */
    Result run(Request r) {
        state.lock.lock();
        try {
            ensureOpen();
            OptConfig c = model.config();
            int[] info = cacheInfoLockedBoth();
            int past = r.useCache() ? info[0] : 0;
            if (r.useCache() && past > 0 && info[1] != r.batch()) {
                throw new IllegalArgumentException("the session caches " + info[1] + " rows; this call has " + r.batch()
                        + " (reset() the session, or fork() per row group)");
            }
            if (r.useCache() && r.batch() > options.maxBatch()) {
                throw new IllegalArgumentException("batch " + r.batch() + " exceeds the session's maxBatch "
                        + options.maxBatch() + " (SessionOptions.maxBatch)");
            }
            int total = past + r.seqLen();
            if (r.useCache() && total > maxSequenceLength) {
                throw new IllegalStateException("cache of " + past + " positions plus " + r.seqLen()
                        + " new exceeds the session's capacity of " + maxSequenceLength);
            }
            if (r.attentionMask() != null && r.attentionMask().length != (long) r.batch() * total) {
                throw new IllegalArgumentException("attention_mask must be [" + r.batch() + ", " + total
                        + "] (past " + past + " + new " + r.seqLen() + ")");
            }
            int layers = c.numHiddenLayers();
            long[] headShape = !r.wantHead() ? null : r.headPositions() != null
                    ? new long[] {r.batch(), model.head().size()}
                    : new long[] {r.batch(), r.seqLen(), model.head().size()};
            // hidden_states.i for i in [firstHidden, layers]; the last is last_hidden_state
            int firstHidden = r.wantHiddenStates() ? 0 : r.wantLastHidden() ? layers : layers + 1;
            long[] attnShape = r.wantAttentions() ? new long[] {r.batch(), c.numAttentionHeads(), r.seqLen(), total} : null;
            long floats = numel(headShape) + (attnShape == null ? 0 : Math.multiplyExact(layers, numel(attnShape)));
            for (int i = firstHidden; i <= layers; i++) {
                floats = Math.addExact(floats, numel(hiddenShape(r, c, i)));
            }
            long bytes = Math.multiplyExact(floats, Float.BYTES);
            OutputMemory.Lease lease = state.outputs.place(bytes);
            Arena out = lease.arena();
            Owner owner = new Owner(this, lease);
            boolean ok = false;
            try (Arena tmp = Arena.ofConfined()) {
                StructLayout L = PanoptH.FORWARD_ARGS;
                MemorySegment a = tmp.allocate(L);
                a.set(ValueLayout.JAVA_INT, PanoptH.offset(L, "struct_size"), (int) L.byteSize());
                a.set(ValueLayout.JAVA_INT, PanoptH.offset(L, "batch"), r.batch());
                a.set(ValueLayout.JAVA_INT, PanoptH.offset(L, "seq_len"), r.seqLen());
                if (r.inputIds() != null) {
                    setPtr(a, "input_ids", tmp.allocateFrom(ValueLayout.JAVA_INT, r.inputIds()));
                }
                if (r.inputsEmbeds() != null) {
                    setPtr(a, "inputs_embeds", tmp.allocateFrom(ValueLayout.JAVA_FLOAT, r.inputsEmbeds()));
                }
                if (r.attentionMask() != null) {
                    setPtr(a, "attention_mask", tmp.allocateFrom(ValueLayout.JAVA_INT, r.attentionMask()));
                }
                if (r.headMask() != null) {
                    setPtr(a, "head_mask", tmp.allocateFrom(ValueLayout.JAVA_FLOAT, r.headMask()));
                }
                a.set(ValueLayout.JAVA_INT, PanoptH.offset(L, "use_cache"), r.useCache() ? 1 : 0);
                if (r.headPositions() != null) {
                    setPtr(a, "head_positions", tmp.allocateFrom(ValueLayout.JAVA_INT, r.headPositions()));
                }
                FloatTensor head = null;
                if (headShape != null) {
                    MemorySegment seg = allocFloats(out, headShape);
                    setPtr(a, "head_out", seg);
                    head = new FloatTensor("head", seg, owner, headShape);
                }
                List<FloatTensor> hidden = List.of();
                if (firstHidden <= layers) {
                    MemorySegment ptrs = tmp.allocate(ValueLayout.ADDRESS, layers + 1L);
                    List<FloatTensor> hs = new ArrayList<>(layers + 1);
                    for (int i = firstHidden; i <= layers; i++) {
                        long[] shape = hiddenShape(r, c, i);
                        MemorySegment seg = allocFloats(out, shape);
                        ptrs.setAtIndex(ValueLayout.ADDRESS, i, seg);
                        hs.add(new FloatTensor("hidden_states." + i, seg, owner, shape)); // last = last_hidden_state
                    }
                    setPtr(a, "hidden_states", ptrs);
                    hidden = List.copyOf(hs);
                }
                List<FloatTensor> attn = List.of();
                if (attnShape != null) {
                    MemorySegment ptrs = tmp.allocate(ValueLayout.ADDRESS, layers);
                    List<FloatTensor> as = new ArrayList<>(layers);
                    for (int i = 0; i < layers; i++) {
                        MemorySegment seg = allocFloats(out, attnShape);
                        ptrs.setAtIndex(ValueLayout.ADDRESS, i, seg);
                        as.add(new FloatTensor("attentions." + i, seg, owner, attnShape));
                    }
                    setPtr(a, "attentions", ptrs);
                    attn = List.copyOf(as);
                }
                NativeMemory.reserve(NativeMemory.Kind.OUTPUT, bytes);
                try {
                    Native.check(panopt_forward.invoke(state.handle, a), "panopt_forward");
                } catch (RuntimeException | Error e) {
                    NativeMemory.released(NativeMemory.Kind.OUTPUT, bytes, false);
                    throw e;
                }
                // Tracked only now: until the forward has written it, nothing may free the memory.
                owner.register();
                ok = true;
                return new Result(this, out, head, hidden, attn, past, owner);
            } finally {
                if (!ok) {
                    lease.free();
                }
            }
        } finally {
            state.lock.unlock();
        }
    }

    private static long[] hiddenShape(Request r, OptConfig c, int i) {
        return new long[] {r.batch(), r.seqLen(), i == c.numHiddenLayers() ? c.wordEmbedProjDim() : c.hiddenSize()};
    }

    /** The product of {@code shape} (0 for null). */
    private static long numel(long[] shape) {
        if (shape == null) {
            return 0;
        }
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    private int[] cacheInfoLockedBoth() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(ValueLayout.JAVA_INT, 2);
            Native.check(panopt_session_cache_info.invoke(state.handle, p, p.asSlice(4)), "panopt_session_cache_info");
            return new int[] {p.getAtIndex(ValueLayout.JAVA_INT, 0), p.getAtIndex(ValueLayout.JAVA_INT, 1)};
        }
    }

    private static MemorySegment allocFloats(Arena arena, long[] shape) {
        return arena.allocate(Math.multiplyExact(numel(shape), Float.BYTES), 64);
    }

    private static void setPtr(MemorySegment args, String field, MemorySegment p) {
        args.set(ValueLayout.ADDRESS, PanoptH.offset(PanoptH.FORWARD_ARGS, field), p);
    }

    private void ensureOpen() {
        if (state.handle == null) {
            throw new IllegalStateException("session is closed");
        }
    }

    NativeModel model() {
        return model;
    }

    /** Frees the native session and every output of it still open. Idempotent. */
    @Override
    public void close() {
        state.close();
    }
}
