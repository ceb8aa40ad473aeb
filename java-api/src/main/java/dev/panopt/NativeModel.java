package dev.panopt;

import dev.panopt.bindings.Native;
import dev.panopt.bindings.PanoptH;
import dev.panopt.bindings.panopt_model_create;
import dev.panopt.bindings.panopt_model_finalize;
import dev.panopt.bindings.panopt_model_free;
import dev.panopt.bindings.panopt_model_set_tensor;
import dev.panopt.bindings.panopt_model_tensor_borrowed;
import dev.panopt.Quantization.TensorClass;
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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A checkpoint bound to a native model on a {@link Backend}: the decoder weights plus one output
 * head, borrowed from the checkpoint's memory-mapped files, except those the load options'
 * {@link Quantization} converts, which are copied into native memory the model owns, and those the
 * native model keeps its own copy of (the CPU backend's block-format weights in 8-row groups), whose
 * source is released as soon as it is set: a converted copy is freed, mapped pages are unloaded. Owns the
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
     * set, from freshly initialised values ({@code initBias} then holds the bias or null; the names
     * then name the new tensors).
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
    private final LoadReport report;

    private NativeModel(Backend backend, Checkpoint checkpoint, OptConfig config, Head head, MemorySegment handle,
                        List<Arena> ownMemory, long bytes, LoadReport report) {
        this.report = report;
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
        private final List<Arena> ownMemory;
        private final long bytes;
        private final Set<Session.State> sessions = new LinkedHashSet<>(); // guarded by itself
        private boolean closed; // guarded by sessions
        private Cleaner.Cleanable cleanable;
        private volatile boolean explicit;

        State(Backend backend, Checkpoint checkpoint, MemorySegment handle, List<Arena> ownMemory, long bytes) {
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
            ownMemory.forEach(Arena::close);
            checkpoint.close();
            NativeMemory.released(NativeMemory.Kind.MODEL, bytes, !explicit);
        }

        void unregister(Session.State s) {
            synchronized (sessions) {
                sessions.remove(s);
            }
        }
    }

    /**
     * Validates the checkpoint for this head, converts the weights {@code options}' quantization asks
     * for, and builds the native model; closes the checkpoint on failure.
     */
    static NativeModel create(Backend backend, Checkpoint checkpoint, OptConfig c, Head head, LoadOptions options)
            throws IOException {
        Arena own = Arena.ofShared();
        Map<String, Arena> copies = new LinkedHashMap<>(); // converted weights the native model still reads
        boolean registered = false;
        try {
            checkpoint.validateDecoder();
            // A tied LM head reads the token embedding: both uses are the LM_HEAD's tensor.
            boolean tied = head.size() > 0 && head.initWeight() == null && EMBED_TOKENS.equals(head.weightName());
            List<WeightLoader.Weight> weights = new ArrayList<>();
            for (WeightSpec w : WeightLayout.decoderWeights(c)) {
                Optional<TensorClass> cls = TensorClass.of(w.name());
                if (tied && w.kind() == PanoptH.T_EMBED_TOKENS) {
                    cls = Optional.of(TensorClass.LM_HEAD);
                }
                weights.add(weight(checkpoint.require(w.name(), w.shape()), w.kind(), w.layer(), cls));
            }
            long ownBytes = 0;
            if (head.size() > 0) {
                Optional<TensorClass> cls = Optional.of(headClass(head));
                if (head.initWeight() != null) {
                    weights.add(ofFloats(own, head.weightName(), head.initWeight(),
                            List.of((long) head.size(), (long) c.wordEmbedProjDim()), KIND_HEAD_WEIGHT, cls));
                    ownBytes += (long) head.initWeight().length * Float.BYTES;
                    if (head.initBias() != null) {
                        weights.add(ofFloats(own, head.biasName() != null ? head.biasName() : "new head bias",
                                head.initBias(), List.of((long) head.size()), KIND_HEAD_BIAS, Optional.empty()));
                        ownBytes += (long) head.initBias().length * Float.BYTES;
                    }
                } else {
                    weights.add(weight(checkpoint.require(head.weightName(), head.size(), c.wordEmbedProjDim()),
                            KIND_HEAD_WEIGHT, -1, cls));
                    if (head.biasName() != null) {
                        weights.add(weight(checkpoint.require(head.biasName(), head.size()), KIND_HEAD_BIAS, -1,
                                Optional.empty()));
                    }
                }
            }
            Quantization q = options.quantization();
            WeightLoader.Result loaded = WeightLoader.load(weights, q, c.numHiddenLayers(), backend.threads(),
                    options.preload(), options.progress());
            copies.putAll(loaded.copies());
            ownBytes += loaded.convertedBytes();
            Native.ensureLoaded();
            MemorySegment h;
            MemorySegment be = backend.acquire();
            registered = true;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment cfg = nativeConfig(arena, c, head, options.repack());
                MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
                Native.check(panopt_model_create.invoke(be, cfg, out), "panopt_model_create");
                h = out.get(ValueLayout.ADDRESS, 0);
            }
            long modelCopies = 0;
            Set<String> repacked = new LinkedHashSet<>();
            try {
                Map<String, Integer> unset = new HashMap<>(); // uses of each tensor not yet set
                loaded.bound().forEach(b -> unset.merge(b.weight().name(), 1, Integer::sum));
                Map<String, Boolean> borrowed = new HashMap<>();
                for (WeightLoader.Bound b : loaded.bound()) {
                    WeightLoader.Weight w = b.weight();
                    Native.check(panopt_model_set_tensor.invoke(h, w.kind(), w.layer(), b.dtype().nativeCode(),
                            b.data(), b.data().byteSize()), "set tensor " + w.name());
                    borrowed.merge(w.name(), borrowed(h, w), Boolean::logicalOr);
                    if (unset.merge(w.name(), -1, Integer::sum) == 0 && !borrowed.get(w.name())) {
                        // every use reads the model's own copy: release the source now, so that
                        // loading never holds both for more than one tensor
                        long size = b.data().byteSize();
                        Arena copy = copies.remove(w.name());
                        if (copy != null) {
                            copy.close();
                            ownBytes -= size;
                        } else if (b.data().isMapped()) {
                            b.data().unload();
                        }
                        modelCopies += size;
                        repacked.add(w.name());
                    }
                }
                Native.check(panopt_model_finalize.invoke(h), "panopt_model_finalize");
            } catch (RuntimeException | Error e) {
                panopt_model_free.invoke(h);
                throw e;
            }
            LoadReport report = loaded.report().withRepacked(repacked);
            if (q.keepsEverything()) {
                LOG.log(System.Logger.Level.DEBUG, "native model ready: {0} tensors from {1}", weights.size(),
                        checkpoint.directory());
            } else {
                LOG.log(System.Logger.Level.INFO, "{0}: {1}", checkpoint.directory(), report.summary());
                LOG.log(System.Logger.Level.DEBUG, () -> "weights of " + checkpoint.directory() + ":\n" + report.table());
            }
            // The kept weights are the checkpoint's mappings (file pages, not counted); converted
            // ones and new heads are ours; the native model itself holds tables of pointers and shapes.
            long bytes = ownBytes + modelCopies + MODEL_NATIVE_BYTES;
            NativeMemory.reserve(NativeMemory.Kind.MODEL, bytes);
            List<Arena> ownMemory = new ArrayList<>(copies.values());
            ownMemory.add(own);
            return new NativeModel(backend, checkpoint, c, head, h, ownMemory, bytes, report);
        } catch (IOException | RuntimeException | Error e) {
            if (registered) {
                backend.releaseModel();
            }
            copies.values().forEach(Arena::close);
            own.close();
            try {
                checkpoint.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private static final String EMBED_TOKENS = "decoder.embed_tokens.weight";

    /** Whether native model {@code h} still reads the buffer it was given for {@code w} (panopt.h). */
    private static boolean borrowed(MemorySegment h, WeightLoader.Weight w) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
            Native.check(panopt_model_tensor_borrowed.invoke(h, w.kind(), w.layer(), out), "tensor " + w.name());
            return out.get(ValueLayout.JAVA_INT, 0) != 0;
        }
    }

    /** The class of a head's weight: LM_HEAD unless it is a classifier's or QA model's. */
    private static TensorClass headClass(Head head) {
        return TensorClass.of(head.weightName()).filter(t -> t == TensorClass.SCORE || t == TensorClass.QA_OUTPUTS)
                .orElse(TensorClass.LM_HEAD);
    }

    private static WeightLoader.Weight weight(Checkpoint.CheckpointTensor t, int kind, int layer,
                                              Optional<TensorClass> cls) {
        DType d = t.info().dtype();
        if (!d.isNative()) { // a GGUF file's block formats are native types too
            throw new IllegalArgumentException("tensor " + t.name() + " in " + t.file() + " has dtype " + d
                    + "; weights must be F32, F16, BF16 or (from a GGUF file) one of ggml's block formats");
        }
        List<Long> shape = new ArrayList<>();
        for (long s : t.shape()) {
            shape.add(s);
        }
        return new WeightLoader.Weight(t.name(), t.data(), d, List.copyOf(shape), kind, layer, cls);
    }

    private static WeightLoader.Weight ofFloats(Arena arena, String name, float[] values, List<Long> shape, int kind,
                                                Optional<TensorClass> cls) {
        return new WeightLoader.Weight(name, arena.allocateFrom(ValueLayout.JAVA_FLOAT, values), DType.F32, shape,
                kind, -1, cls);
    }

    /** What a native model allocates besides the weights it borrows (an estimate, for {@link NativeMemory}). */
    private static final long MODEL_NATIVE_BYTES = 64 << 10;

    private static final int KIND_HEAD_WEIGHT = PanoptH.T_HEAD_WEIGHT;
    private static final int KIND_HEAD_BIAS = PanoptH.T_HEAD_BIAS;

    private static MemorySegment nativeConfig(Arena arena, OptConfig c, Head head, boolean repack) {
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
        setInt(s, "keep_weight_layout", repack ? 0 : 1);
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

    LoadReport report() {
        return report;
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
