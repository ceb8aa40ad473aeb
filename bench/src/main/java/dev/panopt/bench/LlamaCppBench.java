package dev.panopt.bench;

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
import org.openjdk.jmh.infra.IterationParams;

/**
 * llama.cpp (b4916, the build inside de.kherud:llama 4.2.0) driven through its C API by FFM: the
 * strongest form of the peer, no wrapper. Same workloads as {@link PanoptBench} on a GPT-2 twin of
 * the OPT shape; a batch of b rows is b sequences (seq ids 0..b-1) in one llama_batch, logits only
 * for each row's last token, greedy sampling by the same Java argmax as Panopt's.
 */
public final class LlamaCppBench {
    private LlamaCppBench() {}

    @State(Scope.Thread)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
    @Warmup(iterations = 1, time = 2)
    @Measurement(iterations = 3, time = 3)
    public static class Prefill {
        @Param("tiny") public String model;
        @Param("Q8_0") public String format;
        @Param("1") public int batch;
        @Param("2") public int threads;
        @Param("128") public int tokens;

        LlamaCpp.Model m;
        int[][] ids;

        @Setup(Level.Trial)
        public void setup() throws Throwable {
            ModelShape s = ModelShape.of(model);
            m = new LlamaCpp.Model(Checkpoints.gguf(s, format), threads, batch, tokens, batch * tokens);
            ids = Prompts.ids(batch, tokens, s.vocab());
        }

        @Benchmark
        public int prefill() throws Throwable {
            m.clearCache();
            m.decode(ids, 0);
            return m.argmax(0);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            m.close();
        }
    }

    @State(Scope.Thread)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
    @Warmup(iterations = 1, time = 2)
    @Measurement(iterations = 3, time = 3)
    public static class Decode {
        @Param("tiny") public String model;
        @Param("Q8_0") public String format;
        @Param("1") public int batch;
        @Param("2") public int threads;
        @Param("32") public int promptLen;
        @Param("128") public int newTokens;

        LlamaCpp.Model m;
        int[][] prompt;
        int[][] next;
        final LatencyLog log = new LatencyLog();

        @Setup(Level.Trial)
        public void setup() throws Throwable {
            ModelShape s = ModelShape.of(model);
            int ctx = promptLen + newTokens;
            m = new LlamaCpp.Model(Checkpoints.gguf(s, format), threads, batch, ctx, batch * promptLen);
            prompt = Prompts.ids(batch, promptLen, s.vocab());
            next = new int[batch][1];
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
        public void prefill() throws Throwable {
            m.clearCache();
            m.decode(prompt, 0);
            pick();
        }

        private void pick() throws Throwable {
            for (int b = 0; b < batch; b++) {
                next[b][0] = m.argmax(b);
            }
        }

        @Benchmark
        public int decode() throws Throwable {
            for (int i = 0; i < newTokens; i++) {
                long t0 = System.nanoTime();
                m.decode(next, promptLen + i);
                pick();
                log.add(System.nanoTime() - t0);
            }
            return next[0][0];
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            log.write("llama.cpp-capi", model, format, batch, threads);
            m.close();
        }
    }

    /** Model load + context creation (512 positions) + free; the file in the page cache, mmap on (llama.cpp's default). */
    @State(Scope.Thread)
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
    @Warmup(iterations = 2)
    @Measurement(iterations = 5)
    public static class Load {
        @Param("tiny") public String model;
        @Param("F16") public String format;
        @Param("2") public int threads;

        Path file;

        @Setup(Level.Trial)
        public void setup() {
            file = Checkpoints.gguf(ModelShape.of(model), format);
        }

        @Benchmark
        public void load() throws Throwable {
            new LlamaCpp.Model(file, threads, 1, 512, 512).close();
        }
    }
}
