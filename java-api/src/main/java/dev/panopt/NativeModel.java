package dev.panopt;

import dev.panopt.bindings.Native;
import dev.panopt.bindings.PanoptH;
import dev.panopt.bindings.panopt_model_create;
import dev.panopt.bindings.panopt_model_finalize;
import dev.panopt.bindings.panopt_model_free;
import dev.panopt.bindings.panopt_model_set_tensor;
import dev.panopt.checkpoint.Checkpoint;
import dev.panopt.internal.WeightLayout;
import dev.panopt.internal.WeightSpec;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A checkpoint bound to a native model on a {@link Backend}: the decoder weights plus one output
 * head, all borrowed from the checkpoint's memory-mapped files (nothing is copied). Owns the
 * checkpoint, the native handle and every session made from it; {@link #close()} closes the
 * sessions first, then frees the native model, then unmaps the files. A model that becomes
 * unreachable unclosed (its sessions and outputs too, since they refer to it) is closed the same way
 * by a {@link java.lang.ref.Cleaner} (see {@link NativeMemory}). Thread-safe.
 */
final class NativeModel implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(NativeModel.class.getName());

    /**
     * The output head: a Linear(word_embed_proj_dim → size) over the last hidden state, read from
     * the checkpoint ({@code weightName}, {@code biasName} or null) or, when {@code initWeight} is
     * set, from freshly initialised values ({@code initBias} then holds the bias or null).
     */
    record Head(String weightName, String biasName, int size, float[] initWeight, float[] initBias) {
        static final Head NONE = new Head(null, null, 0, null, null);

        static Head fromCheckpoint(String weightName, String biasName, int size) {
            return new Head(weightName, biasName, size, null, null);
        }

        boolean hasBias() {
            return initWeight != null ? initBias != null : biasName != null;
        }
    }

    private final Backend backend;
    private final Checkpoint checkpoint;
    private final OptConfig config;
    private final Head head;
    private final State state;

    private NativeModel(Backend backend, Checkpoint checkpoint, OptConfig config, Head head, MemorySegment handle,
                        Arena ownMemory, long bytes) {
        this.backend = backend;
        this.checkpoint = checkpoint;
        this.config = config;
        this.head = head;
        this.state = new State(backend, checkpoint, handle, ownMemory, bytes);
        state.cleanable = NativeMemory.CLEANER.register(this, state);
    }

    /**
     * What the model owns: its cleaning action, so it must never refer to the {@link NativeModel}.
     * It refers to the {@link Backend}, which therefore outlives every model on it.
     */
    static final class State implements Runnable {
        private final Backend backend;
        private final Checkpoint checkpoint;
        private final MemorySegment handle;
        private final Arena ownMemory;
        private final long bytes;
        private final Set<Session.State> sessions = new LinkedHashSet<>(); // guarded by itself
        private boolean closed; // guarded by sessions
        private Cleaner.Cleanable cleanable;
        private volatile boolean explicit;

        State(Backend backend, Checkpoint checkpoint, MemorySegment handle, Arena ownMemory, long bytes) {
            this.backend = backend;
            this.checkpoint = checkpoint;
            this.handle = handle;
            this.ownMemory = ownMemory;
            this.bytes = bytes;
        }

        void close() {
            explicit = true;
            cleanable.clean();
        }

        /** Closes the sessions, frees the native model, unmaps the files; runs once (close or Cleaner). */
        @Override
        public void run() {
            List<Session.State> open;
            synchronized (sessions) {
                closed = true;
                open = new ArrayList<>(sessions);
            }
            // Each close waits for a forward in flight on that session, so the weights stay mapped
            // until no native code can touch them.
            for (Session.State s : open) {
                s.close();
            }
            panopt_model_free.invoke(handle);
            backend.releaseModel();
            ownMemory.close();
            checkpoint.close();
            NativeMemory.released(NativeMemory.Kind.MODEL, bytes, !explicit);
        }

        void unregister(Session.State s) {
            synchronized (sessions) {
                sessions.remove(s);
            }
        }
    }

    /** Validates the checkpoint for this head and builds the native model; closes the checkpoint on failure. */
    static NativeModel create(Backend backend, Checkpoint checkpoint, OptConfig c, Head head, boolean preload,
                              LoadOptions.LoadProgress progress) throws IOException {
        Arena own = Arena.ofShared();
        long ownBytes = 0;
        boolean registered = false;
        try {
            checkpoint.validateDecoder();
            List<Binding> bindings = new ArrayList<>();
            for (WeightSpec w : WeightLayout.decoderWeights(c)) {
                bindings.add(Binding.of(checkpoint.require(w.name(), w.shape()), w.kind(), w.layer()));
            }
            if (head.size() > 0 && head.initWeight() != null) {
                bindings.add(Binding.ofFloats(own, head.initWeight(), KIND_HEAD_WEIGHT));
                ownBytes += (long) head.initWeight().length * Float.BYTES;
                if (head.initBias() != null) {
                    bindings.add(Binding.ofFloats(own, head.initBias(), KIND_HEAD_BIAS));
                    ownBytes += (long) head.initBias().length * Float.BYTES;
                }
            } else if (head.size() > 0) {
                bindings.add(Binding.of(checkpoint.require(head.weightName(), head.size(), c.wordEmbedProjDim()),
                        KIND_HEAD_WEIGHT, -1));
                if (head.biasName() != null) {
                    bindings.add(Binding.of(checkpoint.require(head.biasName(), head.size()), KIND_HEAD_BIAS, -1));
                }
            }
            Native.ensureLoaded();
            MemorySegment h;
            MemorySegment be = backend.acquire();
            registered = true;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment cfg = nativeConfig(arena, c, head);
                MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
                Native.check(panopt_model_create.invoke(be, cfg, out), "panopt_model_create");
                h = out.get(ValueLayout.ADDRESS, 0);
            }
            // Progress counts each weight once: a tied LM head binds the embedding's bytes again.
            java.util.Set<List<Long>> seen = new java.util.HashSet<>();
            boolean[] first = new boolean[bindings.size()];
            long total = 0;
            for (int i = 0; i < bindings.size(); i++) {
                MemorySegment d = bindings.get(i).data();
                first[i] = seen.add(List.of(d.address(), d.byteSize()));
                total += first[i] ? d.byteSize() : 0;
            }
            long done = 0;
            progress.update(0, total);
            try {
                for (int i = 0; i < bindings.size(); i++) {
                    Binding b = bindings.get(i);
                    if (first[i]) {
                        if (preload) {
                            touchPages(b.data());
                        }
                        done += b.data().byteSize();
                        progress.update(done, total);
                    }
                    Native.check(panopt_model_set_tensor.invoke(h, b.kind(), b.layer(), b.dtype(), b.data(),
                            b.data().byteSize()), "set tensor " + b.name());
                }
                Native.check(panopt_model_finalize.invoke(h), "panopt_model_finalize");
            } catch (RuntimeException | Error e) {
                panopt_model_free.invoke(h);
                throw e;
            }
            LOG.log(System.Logger.Level.DEBUG, "native model ready: {0} tensors from {1}", bindings.size(),
                    checkpoint.directory());
            // The weights are the checkpoint's mappings (file pages, not counted); the native model
            // itself holds tables of pointers and shapes.
            long bytes = ownBytes + MODEL_NATIVE_BYTES;
            NativeMemory.reserve(NativeMemory.Kind.MODEL, bytes);
            return new NativeModel(backend, checkpoint, c, head, h, own, bytes);
        } catch (IOException | RuntimeException | Error e) {
            if (registered) {
                backend.releaseModel();
            }
            own.close();
            try {
                checkpoint.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** One native tensor: its bytes (exactly the tensor), its PANOPT_DTYPE_*, kind and layer. */
    private record Binding(String name, MemorySegment data, int dtype, int kind, int layer) {
        static Binding of(Checkpoint.CheckpointTensor t, int kind, int layer) {
            return new Binding(t.name(), t.data(), nativeDtype(t), kind, layer);
        }

        static Binding ofFloats(Arena arena, float[] values, int kind) {
            return new Binding("new head tensor " + kind, arena.allocateFrom(ValueLayout.JAVA_FLOAT, values),
                    DType.F32.nativeCode(), kind, -1);
        }
    }

    /** Reads one byte per page so the OS brings the mapping into memory now. */
    private static void touchPages(MemorySegment s) {
        byte sink = 0;
        for (long off = 0; off < s.byteSize(); off += 4096) {
            sink ^= s.get(ValueLayout.JAVA_BYTE, off);
        }
        if (sink == 42) {
            Thread.onSpinWait(); // keeps the reads observable to the JIT
        }
    }

    /** What a native model allocates besides the weights it borrows (an estimate, for {@link NativeMemory}). */
    private static final long MODEL_NATIVE_BYTES = 64 << 10;

    private static final int KIND_HEAD_WEIGHT = PanoptH.T_HEAD_WEIGHT;
    private static final int KIND_HEAD_BIAS = PanoptH.T_HEAD_BIAS;

    private static int nativeDtype(Checkpoint.CheckpointTensor t) {
        DType d = t.info().dtype();
        if (!d.isNative()) {
            throw new IllegalArgumentException("tensor " + t.name() + " in " + t.file() + " has dtype " + d
                    + "; weights must be one of " + nativeTypes());
        }
        return d.nativeCode();
    }

    private static List<DType> nativeTypes() {
        List<DType> out = new ArrayList<>();
        for (DType d : DType.values()) {
            if (d.isNative()) {
                out.add(d);
            }
        }
        return out;
    }

    private static MemorySegment nativeConfig(Arena arena, OptConfig c, Head head) {
        StructLayout L = PanoptH.CONFIG;
        MemorySegment s = arena.allocate(L);
        setInt(s, "struct_size", (int) L.byteSize());
        setInt(s, "vocab_size", c.vocabSize());
        setInt(s, "hidden_size", c.hiddenSize());
        setInt(s, "num_hidden_layers", c.numHiddenLayers());
        setInt(s, "num_attention_heads", c.numAttentionHeads());
        setInt(s, "ffn_dim", c.ffnDim());
        setInt(s, "max_position_embeddings", c.maxPositionEmbeddings());
        setInt(s, "word_embed_proj_dim", c.wordEmbedProjDim());
        setInt(s, "do_layer_norm_before", c.doLayerNormBefore() ? 1 : 0);
        setInt(s, "enable_bias", c.enableBias() ? 1 : 0);
        setInt(s, "layer_norm_elementwise_affine", c.layerNormElementwiseAffine() ? 1 : 0);
        setInt(s, "has_final_layer_norm", c.hasFinalLayerNorm() ? 1 : 0);
        setInt(s, "activation", c.activationCode());
        setInt(s, "head_size", head.size());
        setInt(s, "head_has_bias", head.hasBias() ? 1 : 0);
        s.set(ValueLayout.JAVA_FLOAT, PanoptH.offset(L, "layer_norm_eps"), OptConfig.LAYER_NORM_EPS);
        return s;
    }

    private static void setInt(MemorySegment s, String field, int v) {
        s.set(ValueLayout.JAVA_INT, PanoptH.offset(PanoptH.CONFIG, field), v);
    }

    OptConfig config() {
        return config;
    }

    Backend backend() {
        return backend;
    }

    Head head() {
        return head;
    }

    Checkpoint checkpoint() {
        return checkpoint;
    }

    /** The native handle; callers must hold a registered, open session. */
    MemorySegment handle() {
        return state.handle;
    }

    /** The owned state, for sessions' bookkeeping. */
    State state() {
        return state;
    }

    Session newSession(SessionOptions options) {
        synchronized (state.sessions) {
            ensureOpen();
            Session s = Session.create(this, options);
            state.sessions.add(s.state());
            return s;
        }
    }

    void ensureOpen() {
        synchronized (state.sessions) {
            if (state.closed) {
                throw new IllegalStateException("model " + checkpoint.directory() + " is closed");
            }
        }
    }

    boolean isClosed() {
        synchronized (state.sessions) {
            return state.closed;
        }
    }

    @Override
    public void close() {
        state.close();
    }
}
