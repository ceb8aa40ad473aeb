package dev.panopt;

import dev.panopt.bindings.Native;
import dev.panopt.bindings.PanoptH;
import dev.panopt.bindings.panopt_forward;
import dev.panopt.bindings.panopt_session_cache_info;
import dev.panopt.bindings.panopt_session_copy;
import dev.panopt.bindings.panopt_session_create;
import dev.panopt.bindings.panopt_session_free;
import dev.panopt.bindings.panopt_session_read_cache;
import dev.panopt.bindings.panopt_session_reset;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A unit of inference state: the KV cache and native scratch memory (the worker threads belong to
 * the model's {@link Backend} and are shared by all its sessions). Made by a model's
 * {@code newSession}; owned by the caller, who closes it.
 *
 * <p>Thread-safety: a session serialises its own calls (a second thread waits), so it is safe to
 * share but runs one forward at a time; use one session per thread for parallel work. Outputs of a
 * forward stay readable until they are closed, or the session or model is closed.
 */
public final class Session implements AutoCloseable {
    private final NativeModel model;
    private final SessionOptions options;
    private final int maxSequenceLength;
    private final ReentrantLock lock = new ReentrantLock();
    private final Set<Arena> outputs = Collections.newSetFromMap(new IdentityHashMap<>());
    private MemorySegment handle;

    private Session(NativeModel model, SessionOptions options, int maxSequenceLength, MemorySegment handle) {
        this.model = model;
        this.options = options;
        this.maxSequenceLength = maxSequenceLength;
        this.handle = handle;
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
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Native.check(panopt_session_create.invoke(model.handle(), o, out), "panopt_session_create");
            return new Session(model, options, maxSeq, out.get(ValueLayout.ADDRESS, 0));
        }
    }

    /** The options this session was made with. */
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
        lock.lock();
        try {
            ensureOpen();
            return cacheInfoLockedBoth();
        } finally {
            lock.unlock();
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
        lock.lock();
        try {
            ensureOpen();
            OptConfig c = model.config();
            int[] info = cacheInfoLockedBoth();
            int past = info[0];
            int batch = info[1];
            Arena out = Arena.ofShared();
            boolean ok = false;
            try {
                List<FloatTensor> keys = new ArrayList<>();
                List<FloatTensor> values = new ArrayList<>();
                long[] shape = {batch, c.numAttentionHeads(), past, c.headDim()};
                Runnable release = () -> release(out);
                for (int l = 0; l < c.numHiddenLayers(); l++) {
                    for (int which = 0; which < 2; which++) {
                        MemorySegment seg = allocFloats(out, shape);
                        Native.check(panopt_session_read_cache.invoke(handle, l, which, seg, seg.byteSize() / Float.BYTES),
                                "panopt_session_read_cache");
                        FloatTensor t = new FloatTensor("past." + l + (which == 0 ? ".key" : ".value"), seg, release,
                                shape);
                        (which == 0 ? keys : values).add(t);
                    }
                }
                synchronized (outputs) {
                    outputs.add(out);
                }
                ok = true;
                return new PastKeyValues(keys, values);
            } finally {
                if (!ok) {
                    out.close();
                }
            }
        } finally {
            lock.unlock();
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
        lock.lock();
        try {
            ensureOpen();
            Native.check(panopt_session_copy.invoke(handle, copy.handle), "panopt_session_copy");
        } catch (RuntimeException | Error e) {
            copy.close();
            throw e;
        } finally {
            lock.unlock();
        }
        return copy;
    }

    /** Forgets the cached past. */
    public void reset() {
        lock.lock();
        try {
            ensureOpen();
            Native.check(panopt_session_reset.invoke(handle), "panopt_session_reset");
        } finally {
            lock.unlock();
        }
    }

    /** {@return whether the session is open: true until {@link #close()} (or the model's close)} */
    public boolean isOpen() {
        lock.lock();
        try {
            return handle != null;
        } finally {
            lock.unlock();
        }
    }

    /** A validated forward request in flat arrays. */
    record Request(int batch, int seqLen, int[] inputIds, float[] inputsEmbeds, int[] attentionMask,
                   float[] headMask, boolean useCache, int[] headPositions, boolean wantHead,
                   boolean wantHiddenStates, boolean wantLastHidden, boolean wantAttentions) {}

    /** Native results of one forward, owned by {@code arena}. */
    record Result(Session session, Arena arena, FloatTensor head, List<FloatTensor> hiddenStates, List<FloatTensor> attentions,
                  int pastLength) {}

    /** Runs one forward; the result's arena is registered here and released by the caller or by close(). */
    Result run(Request r) {
        lock.lock();
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
            Arena out = Arena.ofShared();
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
                if (r.wantHead()) {
                    long[] shape = r.headPositions() != null
                            ? new long[] {r.batch(), model.head().size()}
                            : new long[] {r.batch(), r.seqLen(), model.head().size()};
                    MemorySegment seg = allocFloats(out, shape);
                    setPtr(a, "head_out", seg);
                    head = new FloatTensor("head", seg, shape);
                }
                int layers = c.numHiddenLayers();
                List<FloatTensor> hidden = List.of();
                if (r.wantHiddenStates() || r.wantLastHidden()) {
                    MemorySegment ptrs = tmp.allocate(ValueLayout.ADDRESS, layers + 1L);
                    List<FloatTensor> hs = new ArrayList<>(layers + 1);
                    for (int i = r.wantHiddenStates() ? 0 : layers; i <= layers; i++) {
                        int dim = i == layers ? c.wordEmbedProjDim() : c.hiddenSize();
                        long[] shape = {r.batch(), r.seqLen(), dim};
                        MemorySegment seg = allocFloats(out, shape);
                        ptrs.setAtIndex(ValueLayout.ADDRESS, i, seg);
                        hs.add(new FloatTensor("hidden_states." + i, seg, shape)); // last = last_hidden_state
                    }
                    setPtr(a, "hidden_states", ptrs);
                    hidden = List.copyOf(hs);
                }
                List<FloatTensor> attn = List.of();
                if (r.wantAttentions()) {
                    MemorySegment ptrs = tmp.allocate(ValueLayout.ADDRESS, layers);
                    List<FloatTensor> as = new ArrayList<>(layers);
                    for (int i = 0; i < layers; i++) {
                        long[] shape = {r.batch(), c.numAttentionHeads(), r.seqLen(), total};
                        MemorySegment seg = allocFloats(out, shape);
                        ptrs.setAtIndex(ValueLayout.ADDRESS, i, seg);
                        as.add(new FloatTensor("attentions." + i, seg, shape));
                    }
                    setPtr(a, "attentions", ptrs);
                    attn = List.copyOf(as);
                }
                Native.check(panopt_forward.invoke(handle, a), "panopt_forward");
                synchronized (outputs) {
                    outputs.add(out);
                }
                ok = true;
                return new Result(this, out, head, hidden, attn, past);
            } finally {
                if (!ok) {
                    out.close();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Releases one forward's memory early (idempotent). */
    void release(Arena arena) {
        boolean mine;
        synchronized (outputs) {
            mine = outputs.remove(arena);
        }
        if (mine) {
            arena.close();
        }
    }

    private int[] cacheInfoLockedBoth() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(ValueLayout.JAVA_INT, 2);
            Native.check(panopt_session_cache_info.invoke(handle, p, p.asSlice(4)), "panopt_session_cache_info");
            return new int[] {p.getAtIndex(ValueLayout.JAVA_INT, 0), p.getAtIndex(ValueLayout.JAVA_INT, 1)};
        }
    }

    private static MemorySegment allocFloats(Arena arena, long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return arena.allocate(Math.multiplyExact(n, Float.BYTES), 64);
    }

    private static void setPtr(MemorySegment args, String field, MemorySegment p) {
        args.set(ValueLayout.ADDRESS, PanoptH.offset(PanoptH.FORWARD_ARGS, field), p);
    }

    private void ensureOpen() {
        if (handle == null) {
            throw new IllegalStateException("session is closed");
        }
    }

    NativeModel model() {
        return model;
    }

    /** Frees the native session and every output of it still open. Idempotent. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (handle == null) {
                return;
            }
            panopt_session_free.invoke(handle);
            handle = null;
            List<Arena> open;
            synchronized (outputs) {
                open = new ArrayList<>(outputs);
                outputs.clear();
            }
            open.forEach(Arena::close);
        } finally {
            lock.unlock();
        }
        model.unregister(this);
    }
}
