package dev.panopt.bench;

import dev.panopt.CausalLMOutput;
import dev.panopt.ForwardOptions;
import dev.panopt.ForwardRequest;
import dev.panopt.LoadOptions;
import dev.panopt.OptForCausalLM;
import dev.panopt.Quantization;
import dev.panopt.DType;
import dev.panopt.Panopt;
import dev.panopt.Session;
import dev.panopt.Backend;
import dev.panopt.BackendOptions;
import dev.panopt.SessionOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.openjdk.jmh.infra.IterationParams;

/** Panopt's benchmarks: prefill, decode, load, and one FFM downcall. */
public final class PanoptBench {
    /**
     * The model in {@code format}: an F32/F16 checkpoint as stored, else the F16 checkpoint quantized
     * while loading. A plain ggml format (Q8_0, Q4_0, ...) puts every matrix in it, the tied LM head
     * included, as the GPT-2 twins store theirs (llama.cpp's {@code --pure}); a preset (Q4_K_M, ...)
     * is Panopt's llama.cpp-style policy.
     */
    static OptForCausalLM open(ModelShape s, String format, LoadOptions.Builder options) throws IOException {
        if (format.equals("F32") || format.equals("F16")) {
            return OptForCausalLM.fromPretrained(Checkpoints.opt(s, format), options.build());
        }
        return OptForCausalLM.fromPretrained(Checkpoints.opt(s, "F16"), options.quantization(quantization(format)).build());
    }

    static Quantization quantization(String format) {
        Quantization preset = Quantization.named(format);
        for (DType d : DType.values()) {
            if (d.isQuantized() && d.name().equals(format)) {
                return Quantization.builder(preset).type(Quantization.TensorClass.LM_HEAD, d)
                        .type(Quantization.TensorClass.EMBED_TOKENS, d).build();
            }
        }
        return preset;
    }

    private PanoptBench() {}

    static final ForwardOptions CACHED = ForwardOptions.builder().useCache(true).build();

    /** Prefill of {@code tokens} tokens per row at batch {@code batch} (logits at the last position, as generation needs). */
    @State(Scope.Thread)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
    @Warmup(iterations = 1, time = 2)
    @Measurement(iterations = 3, time = 3)
    public static class Prefill {
        @Param("tiny") public String model;
        @Param("F16") public String format;
        @Param("1") public int batch;
        @Param("2") public int threads;
        @Param("128") public int tokens;
        /** The session's products: F32, or BF16 (SessionOptions.computeType: bf16 products where the CPU has them). */
        @Param("F32") public String computeType;

        Backend backend;
        OptForCausalLM lm;
        Session session;
        int[][] ids;
        int[][] mask;

        @Setup(Level.Trial)
        public void setup() throws IOException {
            ModelShape s = ModelShape.of(model);
            backend = Backend.create(BackendOptions.builder().threads(threads).build());
            lm = open(s, format, LoadOptions.builder().backend(backend));
            session = lm.newSession(SessionOptions.builder().maxBatch(batch).maxSequenceLength(tokens)
                    .computeType(DType.valueOf(computeType)).build());
            ids = Prompts.ids(batch, tokens, s.vocab());
            mask = Prompts.ones(batch, tokens);
        }

        @Benchmark
        public float prefill() {
            session.reset();
            try (CausalLMOutput out = lm.forwardLast(ForwardRequest.inputIds(ids).attentionMask(mask).session(session).options(CACHED).build())) {
                return out.logits().getFlat(0);
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            session.close();
            lm.close();
            backend.close();
        }
    }

    /**
     * Decode of {@code newTokens} tokens per row with the KV cache after a {@code promptLen}-token
     * prompt (prefilled outside the measurement), greedy; one invocation = all steps. Step latencies
     * go to {@link LatencyLog}.
     */
    @State(Scope.Thread)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
    @Warmup(iterations = 1, time = 2)
    @Measurement(iterations = 3, time = 3)
    public static class Decode {
        @Param("tiny") public String model;
        @Param("F16") public String format;
        @Param("1") public int batch;
        @Param("2") public int threads;
        @Param("32") public int promptLen;
        @Param("128") public int newTokens;
        /** Storage of the KV cache (F32, F16, Q8_0): SessionOptions.kvCacheType. */
        @Param("F32") public String kvCache;

        Backend backend;
        OptForCausalLM lm;
        DecodeStream stream;

        @Setup(Level.Trial)
        public void setup() throws IOException {
            ModelShape s = ModelShape.of(model);
            backend = Backend.create(BackendOptions.builder().threads(threads).build());
            lm = open(s, format, LoadOptions.builder().backend(backend));
            stream = new DecodeStream(lm, s.vocab(), batch, promptLen, newTokens, DType.valueOf(kvCache));
        }

        @Setup(Level.Iteration)
        public void iteration(IterationParams ip) {
            stream.log.iteration(ip, threads);
        }

        @TearDown(Level.Iteration)
        public void iterationEnd() {
            stream.log.iterationEnd(threads);
        }

        @Setup(Level.Invocation)
        public void prefill() {
            stream.prefill();
        }

        @Benchmark
        public int decode() {
            for (int i = 0; i < newTokens; i++) {
                stream.step(i);
            }
            return stream.last();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            stream.log.write("panopt", model, LatencyLog.variant(format, promptLen, kvCache), batch, threads);
            stream.close();
            lm.close();
            backend.close();
        }
    }

    /**
     * A decode step at a long context against one at a short context, measured in alternation: two
     * sessions of one model, after a {@code promptLen}-token and a {@code shortLen}-token prompt, take
     * turns step by step (which goes first alternates too), so a noisy neighbour slows both alike and
     * the ratio of their median steps is the cost of the context itself. Batch 1, greedy, {@code
     * newTokens} steps each per invocation; the latencies go to {@link LatencyLog} under
     * {@link LatencyLog#alternated}.
     */
    @State(Scope.Thread)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
    @Warmup(iterations = 1, time = 2)
    @Measurement(iterations = 3, time = 3)
    public static class DecodeAlternating {
        @Param("tiny") public String model;
        @Param("F16") public String format;
        @Param("2") public int threads;
        @Param("64") public int promptLen;
        @Param("8") public int shortLen;
        @Param("32") public int newTokens;
        /** Storage of the KV cache (F32, F16, Q8_0): SessionOptions.kvCacheType. */
        @Param("F16") public String kvCache;

        Backend backend;
        OptForCausalLM lm;
        DecodeStream longer;
        DecodeStream shorter;

        @Setup(Level.Trial)
        public void setup() throws IOException {
            ModelShape s = ModelShape.of(model);
            backend = Backend.create(BackendOptions.builder().threads(threads).build());
            lm = open(s, format, LoadOptions.builder().backend(backend));
            longer = new DecodeStream(lm, s.vocab(), 1, promptLen, newTokens, DType.valueOf(kvCache));
            shorter = new DecodeStream(lm, s.vocab(), 1, shortLen, newTokens, DType.valueOf(kvCache));
        }

        @Setup(Level.Iteration)
        public void iteration(IterationParams ip) {
            longer.log.iteration(ip, threads);
            shorter.log.iteration(ip);
        }

        @TearDown(Level.Iteration)
        public void iterationEnd() {
            longer.log.iterationEnd(threads);
        }

        @Setup(Level.Invocation)
        public void prefill() {
            longer.prefill();
            shorter.prefill();
        }

        @Benchmark
        public int decode() {
            for (int i = 0; i < newTokens; i++) {
                DecodeStream first = (i & 1) == 0 ? shorter : longer;
                first.step(i);
                (first == shorter ? longer : shorter).step(i);
            }
            return longer.last() ^ shorter.last();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            longer.log.write("panopt", model, LatencyLog.alternated(format, promptLen, kvCache), 1, threads);
            shorter.log.write("panopt", model, LatencyLog.alternated(format, shortLen, kvCache), 1, threads);
            longer.close();
            shorter.close();
            lm.close();
            backend.close();
        }
    }

    /**
     * Model load to a model ready for its first forward: fromPretrained (map, validate, hand weights to native)
     * plus a session of 512 positions (as llama.cpp's load creates a context of 512), then close; files in the
     * page cache. {@code file}: {@code hf} loads the Hugging Face checkpoint (an F32/F16 one as stored, else the
     * F16 one quantized while loading, as {@link #open}); {@code gguf} loads a GGUF file holding {@code format}
     * already ({@link Checkpoints#optGguf}), which is mapped and handed to native code without a copy.
     */
    @State(Scope.Thread)
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
    @Warmup(iterations = 2)
    @Measurement(iterations = 5)
    public static class Load {
        @Param("tiny") public String model;
        @Param("F16") public String format;
        @Param("hf") public String file;
        /** LoadOptions.repack: block-format weights copied into 8-row groups (true) or used where mapped. */
        @Param("true") public boolean repack;

        Path gguf;

        @Setup(Level.Trial)
        public void setup() {
            if (file.equals("gguf")) {
                gguf = Checkpoints.optGguf(ModelShape.of(model), format);
            } else if (!file.equals("hf")) {
                throw new IllegalArgumentException("file must be hf or gguf: " + file);
            }
        }

        @Benchmark
        public void load(Blackhole bh) throws IOException {
            try (OptForCausalLM lm = gguf != null
                    ? OptForCausalLM.fromPretrained(gguf, LoadOptions.builder().repack(repack).build())
                    : open(ModelShape.of(model), format, LoadOptions.builder().repack(repack));
                 Session session = lm.newSession(SessionOptions.builder().maxSequenceLength(512).build())) {
                bh.consume(session);
            }
        }
    }

    /** One FFM downcall into libpanopt ({@code panopt_abi_version}, a trivial function). */
    @State(Scope.Thread)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
    @Warmup(iterations = 2, time = 1)
    @Measurement(iterations = 3, time = 1)
    public static class Downcall {
        @Benchmark
        public int abiVersion() {
            return Panopt.nativeAbiVersion();
        }
    }
}
