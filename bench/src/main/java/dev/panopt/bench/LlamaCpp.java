package dev.panopt.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * llama.cpp's C API, called through FFM in the {@code libjllama.so} that the de.kherud:llama 4.2.0
 * jar ships (build b4916, which exports the whole llama_* API with ggml linked in statically). The
 * struct layouts are those of llama.h at b4916 (March 2025: {@code llama_model_params} without
 * {@code tensor_buft_overrides}, {@code llama_context_params} still with {@code logits_all});
 * {@link #checkLayouts} verifies them against the library's own defaults at start-up, so a layout
 * mismatch fails loudly instead of corrupting a call.
 */
public final class LlamaCpp {
    private LlamaCpp() {}

    // struct llama_model_params (b4916)
    static final StructLayout MODEL_PARAMS = MemoryLayout.structLayout(
            ADDRESS.withName("devices"),
            JAVA_INT.withName("n_gpu_layers"), JAVA_INT.withName("split_mode"), JAVA_INT.withName("main_gpu"),
            MemoryLayout.paddingLayout(4),
            ADDRESS.withName("tensor_split"), ADDRESS.withName("progress_callback"),
            ADDRESS.withName("progress_callback_user_data"), ADDRESS.withName("kv_overrides"),
            JAVA_BYTE.withName("vocab_only"), JAVA_BYTE.withName("use_mmap"), JAVA_BYTE.withName("use_mlock"),
            JAVA_BYTE.withName("check_tensors"), MemoryLayout.paddingLayout(4));

    // struct llama_context_params (b4916)
    static final StructLayout CONTEXT_PARAMS = MemoryLayout.structLayout(
            JAVA_INT.withName("n_ctx"), JAVA_INT.withName("n_batch"), JAVA_INT.withName("n_ubatch"),
            JAVA_INT.withName("n_seq_max"), JAVA_INT.withName("n_threads"), JAVA_INT.withName("n_threads_batch"),
            JAVA_INT.withName("rope_scaling_type"), JAVA_INT.withName("pooling_type"), JAVA_INT.withName("attention_type"),
            JAVA_FLOAT.withName("rope_freq_base"), JAVA_FLOAT.withName("rope_freq_scale"),
            JAVA_FLOAT.withName("yarn_ext_factor"), JAVA_FLOAT.withName("yarn_attn_factor"),
            JAVA_FLOAT.withName("yarn_beta_fast"), JAVA_FLOAT.withName("yarn_beta_slow"),
            JAVA_INT.withName("yarn_orig_ctx"), JAVA_FLOAT.withName("defrag_thold"), MemoryLayout.paddingLayout(4),
            ADDRESS.withName("cb_eval"), ADDRESS.withName("cb_eval_user_data"),
            JAVA_INT.withName("type_k"), JAVA_INT.withName("type_v"),
            JAVA_BYTE.withName("logits_all"), JAVA_BYTE.withName("embeddings"), JAVA_BYTE.withName("offload_kqv"),
            JAVA_BYTE.withName("flash_attn"), JAVA_BYTE.withName("no_perf"), MemoryLayout.paddingLayout(3),
            ADDRESS.withName("abort_callback"), ADDRESS.withName("abort_callback_data"));

    // struct llama_batch
    static final StructLayout BATCH = MemoryLayout.structLayout(
            JAVA_INT.withName("n_tokens"), MemoryLayout.paddingLayout(4),
            ADDRESS.withName("token"), ADDRESS.withName("embd"), ADDRESS.withName("pos"),
            ADDRESS.withName("n_seq_id"), ADDRESS.withName("seq_id"), ADDRESS.withName("logits"));

    static long off(StructLayout l, String f) {
        return l.byteOffset(MemoryLayout.PathElement.groupElement(f));
    }

    /** Downcall handles, created once. */
    static final class Api {
        static final Path LIBRARY = extract();
        static final SymbolLookup LOOKUP = SymbolLookup.libraryLookup(LIBRARY, Arena.global());
        static final Linker L = Linker.nativeLinker();
        static final MethodHandle BACKEND_INIT = h("llama_backend_init", FunctionDescriptor.ofVoid());
        static final MethodHandle LOG_SET = h("llama_log_set", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));
        static final MethodHandle MODEL_DEFAULT = h("llama_model_default_params", FunctionDescriptor.of(MODEL_PARAMS));
        static final MethodHandle CONTEXT_DEFAULT = h("llama_context_default_params", FunctionDescriptor.of(CONTEXT_PARAMS));
        static final MethodHandle MODEL_LOAD = h("llama_model_load_from_file", FunctionDescriptor.of(ADDRESS, ADDRESS, MODEL_PARAMS));
        static final MethodHandle MODEL_FREE = h("llama_model_free", FunctionDescriptor.ofVoid(ADDRESS));
        static final MethodHandle INIT_FROM_MODEL = h("llama_init_from_model", FunctionDescriptor.of(ADDRESS, ADDRESS, CONTEXT_PARAMS));
        static final MethodHandle FREE = h("llama_free", FunctionDescriptor.ofVoid(ADDRESS));
        static final MethodHandle DECODE = h("llama_decode", FunctionDescriptor.of(JAVA_INT, ADDRESS, BATCH));
        static final MethodHandle GET_LOGITS_ITH = h("llama_get_logits_ith", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
        static final MethodHandle KV_CLEAR = h("llama_kv_cache_clear", FunctionDescriptor.ofVoid(ADDRESS));
        static final MethodHandle N_VOCAB = h("llama_n_vocab", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle MODEL_GET_VOCAB = h("llama_model_get_vocab", FunctionDescriptor.of(ADDRESS, ADDRESS));

        static {
            try {
                MethodHandle quiet = MethodHandles.lookup().findStatic(Api.class, "quietLog",
                        MethodType.methodType(void.class, int.class, MemorySegment.class, MemorySegment.class));
                MemorySegment cb = L.upcallStub(quiet, FunctionDescriptor.ofVoid(JAVA_INT, ADDRESS, ADDRESS), Arena.global());
                if (!Boolean.getBoolean("panopt.bench.llamaLog")) {
                    LOG_SET.invokeExact(cb, MemorySegment.NULL);
                }
                BACKEND_INIT.invokeExact();
            } catch (Throwable t) {
                throw new ExceptionInInitializerError(t);
            }
        }

        /** Log callback: keeps errors (level 4 = GGML_LOG_LEVEL_ERROR), drops the rest. */
        static void quietLog(int level, MemorySegment text, MemorySegment user) {
            try {
                if (level == 4) {
                    System.err.print("[llama.cpp] " + text.reinterpret(Long.MAX_VALUE).getString(0));
                }
            } catch (Throwable ignored) {
                // an upcall must not throw
            }
        }

        private static MethodHandle h(String name, FunctionDescriptor d) {
            return L.downcallHandle(LOOKUP.find(name).orElseThrow(() -> new UnsatisfiedLinkError(
                    name + " not exported by " + LIBRARY)), d);
        }
    }

    /** The jar's {@code libjllama.so}, extracted once per JVM into the bench cache. */
    static Path extract() {
        String res = "de/kherud/llama/Linux/x86_64/libjllama.so";
        try (InputStream in = LlamaCpp.class.getClassLoader().getResourceAsStream(res)) {
            if (in == null) {
                throw new UnsatisfiedLinkError(res + " not on the class path (de.kherud:llama jar missing?)");
            }
            byte[] bytes = in.readAllBytes();
            Path dir = Checkpoints.cacheDir().resolve("lib");
            Files.createDirectories(dir);
            Path f = dir.resolve("libjllama-4.2.0-" + Integer.toHexString(java.util.Arrays.hashCode(bytes)) + ".so");
            if (!Files.exists(f) || Files.size(f) != bytes.length) {
                Path tmp = Files.createTempFile(dir, "libjllama", ".tmp");
                Files.write(tmp, bytes);
                Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Checks the struct layouts against the defaults llama.cpp b4916 documents. */
    static void checkLayouts() throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment mp = (MemorySegment) Api.MODEL_DEFAULT.invokeExact((java.lang.foreign.SegmentAllocator) a);
            MemorySegment cp = (MemorySegment) Api.CONTEXT_DEFAULT.invokeExact((java.lang.foreign.SegmentAllocator) a);
            StringBuilder bad = new StringBuilder();
            expect(bad, "model.split_mode", mp.get(JAVA_INT, off(MODEL_PARAMS, "split_mode")), 1);
            expect(bad, "model.use_mmap", mp.get(JAVA_BYTE, off(MODEL_PARAMS, "use_mmap")), 1);
            expect(bad, "model.use_mlock", mp.get(JAVA_BYTE, off(MODEL_PARAMS, "use_mlock")), 0);
            expect(bad, "ctx.n_ctx", cp.get(JAVA_INT, off(CONTEXT_PARAMS, "n_ctx")), 512);
            expect(bad, "ctx.n_batch", cp.get(JAVA_INT, off(CONTEXT_PARAMS, "n_batch")), 2048);
            expect(bad, "ctx.n_ubatch", cp.get(JAVA_INT, off(CONTEXT_PARAMS, "n_ubatch")), 512);
            expect(bad, "ctx.n_seq_max", cp.get(JAVA_INT, off(CONTEXT_PARAMS, "n_seq_max")), 1);
            expect(bad, "ctx.type_k", cp.get(JAVA_INT, off(CONTEXT_PARAMS, "type_k")), 1);
            expect(bad, "ctx.type_v", cp.get(JAVA_INT, off(CONTEXT_PARAMS, "type_v")), 1);
            expect(bad, "ctx.offload_kqv", cp.get(JAVA_BYTE, off(CONTEXT_PARAMS, "offload_kqv")), 1);
            expect(bad, "ctx.flash_attn", cp.get(JAVA_BYTE, off(CONTEXT_PARAMS, "flash_attn")), 0);
            expect(bad, "ctx.no_perf", cp.get(JAVA_BYTE, off(CONTEXT_PARAMS, "no_perf")), 1);
            if (!bad.isEmpty()) {
                throw new IllegalStateException("llama.cpp struct layouts do not match libjllama.so:" + bad);
            }
        }
    }

    private static void expect(StringBuilder bad, String what, int got, int want) {
        if (got != want) {
            bad.append(' ').append(what).append('=').append(got).append(" (expected ").append(want).append(')');
        }
    }

    /** A loaded model and one context sized for {@code maxSeqs} sequences of {@code ctxPerSeq} positions. */
    public static final class Model implements AutoCloseable {
        private final Arena arena = Arena.ofShared();
        private MemorySegment model;
        private MemorySegment ctx;
        private final int vocab;
        private final int maxTokens;
        // batch arrays
        private final MemorySegment tokens, pos, nSeqId, seqIdPtrs, logitsFlags, batch;

        public Model(Path gguf, int threads, int maxSeqs, int ctxPerSeq, int maxBatchTokens) throws Throwable {
            checkLayouts();
            MemorySegment mp = (MemorySegment) Api.MODEL_DEFAULT.invokeExact((java.lang.foreign.SegmentAllocator) arena);
            model = (MemorySegment) Api.MODEL_LOAD.invokeExact(arena.allocateFrom(gguf.toString()), mp);
            if (model.equals(MemorySegment.NULL)) {
                throw new IllegalStateException("llama_model_load_from_file failed for " + gguf);
            }
            MemorySegment cp = (MemorySegment) Api.CONTEXT_DEFAULT.invokeExact((java.lang.foreign.SegmentAllocator) arena);
            int nCtx = maxSeqs * ctxPerSeq;
            cp.set(JAVA_INT, off(CONTEXT_PARAMS, "n_ctx"), nCtx);
            cp.set(JAVA_INT, off(CONTEXT_PARAMS, "n_batch"), maxBatchTokens);
            cp.set(JAVA_INT, off(CONTEXT_PARAMS, "n_ubatch"), maxBatchTokens);
            cp.set(JAVA_INT, off(CONTEXT_PARAMS, "n_seq_max"), maxSeqs);
            cp.set(JAVA_INT, off(CONTEXT_PARAMS, "n_threads"), threads);
            cp.set(JAVA_INT, off(CONTEXT_PARAMS, "n_threads_batch"), threads);
            ctx = (MemorySegment) Api.INIT_FROM_MODEL.invokeExact(model, cp);
            if (ctx.equals(MemorySegment.NULL)) {
                throw new IllegalStateException("llama_init_from_model failed");
            }
            vocab = (int) Api.N_VOCAB.invokeExact((MemorySegment) Api.MODEL_GET_VOCAB.invokeExact(model));
            maxTokens = maxBatchTokens;
            tokens = arena.allocate(JAVA_INT, maxBatchTokens);
            pos = arena.allocate(JAVA_INT, maxBatchTokens);
            nSeqId = arena.allocate(JAVA_INT, maxBatchTokens);
            logitsFlags = arena.allocate(JAVA_BYTE, maxBatchTokens);
            seqIdPtrs = arena.allocate(ADDRESS, maxBatchTokens);
            MemorySegment seqIds = arena.allocate(JAVA_INT, maxSeqs);
            for (int s = 0; s < maxSeqs; s++) {
                seqIds.setAtIndex(JAVA_INT, s, s);
            }
            for (int i = 0; i < maxBatchTokens; i++) {
                nSeqId.setAtIndex(JAVA_INT, i, 1);
            }
            batch = arena.allocate(BATCH);
            batch.set(ADDRESS, off(BATCH, "token"), tokens);
            batch.set(ADDRESS, off(BATCH, "embd"), MemorySegment.NULL);
            batch.set(ADDRESS, off(BATCH, "pos"), pos);
            batch.set(ADDRESS, off(BATCH, "n_seq_id"), nSeqId);
            batch.set(ADDRESS, off(BATCH, "seq_id"), seqIdPtrs);
            batch.set(ADDRESS, off(BATCH, "logits"), logitsFlags);
            this.seqIds = seqIds;
            this.lastIndex = new int[maxSeqs];
        }

        private final MemorySegment seqIds;
        private final int[] lastIndex;

        public int vocab() {
            return vocab;
        }

        public void clearCache() throws Throwable {
            Api.KV_CLEAR.invokeExact(ctx);
        }

        /**
         * Decodes {@code ids[s][*]} for every sequence s at positions {@code start..}, requesting
         * logits for the last token of each sequence only (as Panopt's forwardLast).
         */
        public void decode(int[][] ids, int start) throws Throwable {
            int n = 0;
            for (int s = 0; s < ids.length; s++) {
                int[] row = ids[s];
                for (int j = 0; j < row.length; j++, n++) {
                    tokens.setAtIndex(JAVA_INT, n, row[j]);
                    pos.setAtIndex(JAVA_INT, n, start + j);
                    seqIdPtrs.setAtIndex(ADDRESS, n, seqIds.asSlice(4L * s, 4));
                    logitsFlags.set(JAVA_BYTE, n, (byte) (j == row.length - 1 ? 1 : 0));
                }
                lastIndex[s] = n - 1;
            }
            if (n > maxTokens) {
                throw new IllegalArgumentException(n + " tokens exceed the batch of " + maxTokens);
            }
            batch.set(JAVA_INT, off(BATCH, "n_tokens"), n);
            int rc = (int) Api.DECODE.invokeExact(ctx, batch);
            if (rc != 0) {
                throw new IllegalStateException("llama_decode returned " + rc);
            }
        }

        /** Greedy next token of sequence {@code s} (from the logits of its last token in the last decode). */
        public int argmax(int s) throws Throwable {
            MemorySegment p = (MemorySegment) Api.GET_LOGITS_ITH.invokeExact(ctx, lastIndex[s]);
            if (p.equals(MemorySegment.NULL)) {
                throw new IllegalStateException("llama_get_logits_ith(" + lastIndex[s] + ") returned NULL");
            }
            p = p.reinterpret(4L * vocab);
            return Sampling.argmax(p, vocab);
        }

        @Override
        public void close() {
            try {
                if (ctx != null) Api.FREE.invokeExact(ctx);
                if (model != null) Api.MODEL_FREE.invokeExact(model);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            } finally {
                ctx = null;
                model = null;
                arena.close();
            }
        }
    }
}
