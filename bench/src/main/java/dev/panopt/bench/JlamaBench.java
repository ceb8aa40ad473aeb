package dev.panopt.bench;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;
import java.io.File;
import java.util.Optional;
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
import org.openjdk.jmh.infra.IterationParams;

/**
 * Jlama 0.8.4 (jlama-core: pure Java, Vector API) on the GPT-2 twin in F32 safetensors, batch 1 (its
 * generation API is single-sequence). Driven below its generate() loop — forward/batchForward with an
 * ephemeral KV buffer and its own greedy sample() — so prompts are exact token ids. {@code format}
 * F32 runs the F32 weights; Q4 asks Jlama to quantize them to its Q4 at load (working quantization
 * I8) — which its GPT-2 loader (0.8.4) ignores, so {@code Q4} fails with that reason instead of
 * silently measuring F32 under a Q4 label. The forked JVM alone gets {@code --add-modules jdk.incubator.vector}.
 */
public final class JlamaBench {
    private JlamaBench() {}

    static AbstractModel load(String model, String format, int threads) {
        File dir = Checkpoints.gpt2Dir(ModelShape.of(model)).toFile();
        boolean q4 = format.equals("Q4");
        if (!q4 && !format.equals("F32")) {
            throw new IllegalArgumentException("Jlama formats: F32, Q4");
        }
        AbstractModel m = ModelSupport.loadModel(dir, null, DType.F32, q4 ? DType.I8 : DType.F32,
                q4 ? Optional.of(DType.Q4) : Optional.empty(), Optional.of(threads));
        if (q4 && !quantized(m)) {
            m.close();
            throw new UnsupportedOperationException("Jlama 0.8.4's GPT-2 loader ignores the Q4 request: the matmul weights "
                    + "stay F32 (FloatBufferTensor), so there is no Jlama Q4 figure for GPT-2");
        }
        return m;
    }

    /** True when the first block's attention weights are not F32 (Jlama quantized them at load). */
    static boolean quantized(AbstractModel m) {
        try {
            java.lang.reflect.Field f = AbstractModel.class.getDeclaredField("transformerBlocks");
            f.setAccessible(true);
            Object block = ((Object[]) f.get(m))[0];
            java.lang.reflect.Field a = block.getClass().getDeclaredField("attention");
            a.setAccessible(true);
            Object attn = a.get(block);
            java.lang.reflect.Field q = attn.getClass().getDeclaredField("queryAttnWeights");
            q.setAccessible(true);
            return !(q.get(attn) instanceof com.github.tjake.jlama.tensor.FloatBufferTensor);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot inspect Jlama's weights", e);
        }
    }

    @State(Scope.Thread)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
    @Warmup(iterations = 1, time = 2)
    @Measurement(iterations = 3, time = 3)
    public static class Prefill {
        @Param("tiny") public String model;
        @Param("F32") public String format;
        @Param("2") public int threads;
        @Param("128") public int tokens;

        AbstractModel m;
        KvBufferCache cache;
        int[] ids;
        KvBufferCache.KvBuffer kv;

        @Setup(Level.Trial)
        public void setup() {
            m = load(model, format, threads);
            cache = new KvBufferCache(m);
            ids = Prompts.ids(1, tokens, ModelShape.of(model).vocab())[0];
        }

        @Setup(Level.Invocation)
        public void fresh() {
            kv = cache.getEphemeralKvBuffer();
        }

        @Benchmark
        public int prefill() {
            AbstractTensor out = m.batchForward(ids, 0, kv);
            AbstractTensor last = out.slice(out.shape().first() - 1);
            int t = m.sample(last, 0f, 0.5f, m.makeDenseTensor(m.getConfig().vocabularySize));
            out.close();
            return t;
        }

        @TearDown(Level.Invocation)
        public void release() {
            kv.close();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            m.close();
        }
    }

    @State(Scope.Thread)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
    @Warmup(iterations = 1, time = 2)
    @Measurement(iterations = 3, time = 3)
    public static class Decode {
        @Param("tiny") public String model;
        @Param("F32") public String format;
        @Param("2") public int threads;
        @Param("32") public int promptLen;
        @Param("128") public int newTokens;

        AbstractModel m;
        KvBufferCache cache;
        KvBufferCache.KvBuffer kv;
        AbstractTensor logits;
        int[] prompt;
        int next;
        final LatencyLog log = new LatencyLog();

        @Setup(Level.Trial)
        public void setup() {
            m = load(model, format, threads);
            cache = new KvBufferCache(m);
            prompt = Prompts.ids(1, promptLen, ModelShape.of(model).vocab())[0];
            logits = m.makeDenseTensor(m.getConfig().vocabularySize);
        }

        @Setup(Level.Iteration)
        public void iteration(IterationParams ip) {
            log.iteration(ip, threads);
        }

        @TearDown(Level.Iteration)
        public void iterationEnd() {
            log.iterationEnd(threads);
        }

        @Setup(Level.Invocation)
        public void prefill() {
            kv = cache.getEphemeralKvBuffer();
            AbstractTensor out = m.batchForward(prompt, 0, kv);
            next = m.sample(out.slice(out.shape().first() - 1), 0f, 0.5f, logits);
            out.close();
        }

        @Benchmark
        public int decode() {
            for (int i = 0; i < newTokens; i++) {
                long t0 = System.nanoTime();
                AbstractTensor out = m.forward(next, promptLen + i, kv, Optional.empty());
                next = m.sample(out, 0f, 0.5f, logits);
                out.close();
                log.add(System.nanoTime() - t0);
            }
            return next;
        }

        @TearDown(Level.Invocation)
        public void release() {
            kv.close();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            log.write("jlama", model, format, 1, threads);
            m.close();
        }
    }
}
