package dev.panopt.bench;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import de.kherud.llama.ModelParameters;
import java.lang.reflect.Field;
import java.util.Arrays;
import java.util.Map;
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
 * llama.cpp through its Java binding de.kherud:llama 4.2.0 (what a Java user gets): the binding wraps
 * llama.cpp's server, so a request is a JSON task answered token by token through JNI. Batch 1 only
 * (the binding has no batch API). Prompts are exact token ids ({@link #withTokens}), prompt caching
 * off, EOS ignored, temperature 0. Its native threads keep the JVM alive after close(), so each
 * trial runs in a forked JVM that JMH ends after {@code jmh.shutdownTimeout}.
 */
public final class LlamaBindingBench {
    private LlamaBindingBench() {}

    static LlamaModel open(ModelShape s, String format, int threads, int ctx) {
        ModelParameters mp = new ModelParameters()
                .setModel(Checkpoints.gguf(s, format).toString())
                .setThreads(threads).setThreadsBatch(threads)
                .setCtxSize(ctx).setBatchSize(Math.max(512, ctx)).setUbatchSize(Math.max(512, ctx))
                .setParallel(1).setGpuLayers(0).disableLog();
        return new LlamaModel(mp);
    }

    static InferenceParameters request(int[] prompt, int nPredict) {
        InferenceParameters p = new InferenceParameters("").setNPredict(nPredict).setTemperature(0f)
                .setIgnoreEos(true).setCachePrompt(false).setSeed(42);
        return withTokens(p, prompt);
    }

    /**
     * Makes {@code p}'s prompt the exact token ids: the binding takes prompts only as strings, but the
     * llama.cpp server it wraps accepts a JSON array of token ids as {@code prompt}. The binding keeps its
     * request as a map of JSON values in the package-private field {@code parameters} of its
     * {@code JsonParameters}, reached here by reflection (the binding is on the class path).
     */
    static InferenceParameters withTokens(InferenceParameters p, int[] ids) {
        parameters(p).put("prompt", Arrays.toString(ids));
        return p;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, String> parameters(InferenceParameters p) {
        try {
            return (Map<String, String>) ParametersField.FIELD.get(p);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot read the binding's request parameters", e);
        }
    }

    /** The binding's {@code JsonParameters.parameters}, looked up once when first needed. */
    private static final class ParametersField {
        static final Field FIELD = find();

        private static Field find() {
            try {
                Field f = InferenceParameters.class.getSuperclass().getDeclaredField("parameters");
                f.setAccessible(true);
                return f;
            } catch (NoSuchFieldException e) {
                throw new IllegalStateException("de.kherud:llama has no JsonParameters.parameters field", e);
            }
        }
    }

    /** Prefill: a request of {@code tokens} prompt tokens and 1 new token (the binding's smallest request). */
    @State(Scope.Thread)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Djmh.shutdownTimeout=1", "-Djmh.shutdownTimeout.step=1"})
    @Warmup(iterations = 1, time = 2)
    @Measurement(iterations = 3, time = 3)
    public static class Prefill {
        @Param("tiny") public String model;
        @Param("Q8_0") public String format;
        @Param("2") public int threads;
        @Param("128") public int tokens;

        LlamaModel m;
        InferenceParameters req;

        @Setup(Level.Trial)
        public void setup() {
            ModelShape s = ModelShape.of(model);
            m = open(s, format, threads, tokens + 16);
            req = request(Prompts.ids(1, tokens, s.vocab())[0], 1);
        }

        @Benchmark
        public String prefill() {
            return m.complete(req);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            m.close();
        }
    }

    /**
     * Decode: one streamed request of {@code promptLen} prompt tokens and {@code newTokens} new ones.
     * The per-token latency is the gap between consecutive streamed tokens (the first, which carries
     * the prompt, is not counted).
     */
    @State(Scope.Thread)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Djmh.shutdownTimeout=1", "-Djmh.shutdownTimeout.step=1"})
    @Warmup(iterations = 1, time = 2)
    @Measurement(iterations = 3, time = 3)
    public static class Decode {
        @Param("tiny") public String model;
        @Param("Q8_0") public String format;
        @Param("2") public int threads;
        @Param("32") public int promptLen;
        @Param("128") public int newTokens;

        LlamaModel m;
        InferenceParameters req;
        final LatencyLog log = new LatencyLog();

        @Setup(Level.Trial)
        public void setup() {
            ModelShape s = ModelShape.of(model);
            m = open(s, format, threads, promptLen + newTokens + 16);
            req = request(Prompts.ids(1, promptLen, s.vocab())[0], newTokens);
        }

        @Setup(Level.Iteration)
        public void iteration(IterationParams ip) {
            log.iteration(ip, threads);
        }

        @TearDown(Level.Iteration)
        public void iterationEnd() {
            log.iterationEnd(threads);
        }

        @Benchmark
        public int decode() {
            int n = 0;
            long last = 0;
            for (LlamaOutput o : m.generate(req)) {
                long now = System.nanoTime();
                if (n > 0) {
                    log.add(now - last);
                }
                last = now;
                n++;
            }
            if (n < newTokens) {
                throw new IllegalStateException("binding streamed " + n + " tokens, expected " + newTokens);
            }
            return n;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            log.write("llama.cpp-binding", model, format, 1, threads);
            m.close();
        }
    }
}
