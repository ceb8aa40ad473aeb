package dev.panopt.bench;

import dev.panopt.Backend;
import dev.panopt.BackendOptions;
import dev.panopt.CausalLMOutput;
import dev.panopt.DType;
import dev.panopt.ForwardRequest;
import dev.panopt.LoadOptions;
import dev.panopt.OptForCausalLM;
import dev.panopt.Session;
import dev.panopt.SessionOptions;
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
 * Panopt and llama.cpp's C API decoding in one process, taking turns: the suite's separate decode trials
 * run minutes apart, in separate JVMs, and the host's memory bandwidth changes within seconds (where it
 * places the two vCPUs, bench/RESULTS.md), so a ratio of two such trials mixes the two systems' speeds
 * with the host's. Here each invocation runs {@code newTokens} greedy batch-1 steps of one system, then
 * as many of the other (which goes first alternates per invocation), each after its own prompt; the
 * step latencies go to two {@link LatencyLog}s under {@link LatencyLog#versus}, and the report gives each
 * system's tokens/s over the same iterations and their ratio. A turn of ~0.3-5 s is long against the
 * pools' spinning after a step (Panopt's workers: up to 1 ms) and short against the placements' seconds.
 * {@link Prefill} does the same for a prompt: one of each per invocation, each timed on its own.
 */
public class VersusBench {
    /** Both systems' copies of one shape and format, on {@code threads} threads each; closes both. */
    static final class Pair implements AutoCloseable {
        final ModelShape shape;
        final Backend backend;
        final OptForCausalLM lm;
        final LlamaCpp.Model llama;

        /** llama.cpp's context: {@code positions} per sequence, up to {@code batchTokens} tokens per decode call. */
        Pair(String model, String format, int threads, int positions, int batchTokens) throws Throwable {
            shape = ModelShape.of(model);
            backend = Backend.create(BackendOptions.builder().threads(threads).build());
            lm = PanoptBench.open(shape, format, LoadOptions.builder().backend(backend));
            llama = new LlamaCpp.Model(Checkpoints.gguf(shape, format), threads, 1, positions, batchTokens);
        }

        /** Writes both systems' logs under {@code variant}. */
        void write(LatencyLog panoptLog, LatencyLog llamaLog, String model, String variant, int threads) {
            panoptLog.write("panopt", model, variant, 1, threads);
            llamaLog.write(Report.VERSUS_PEER, model, variant, 1, threads);
        }

        @Override
        public void close() {
            lm.close();
            backend.close();
            llama.close();
        }
    }

    @State(Scope.Thread)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
    @Warmup(iterations = 1, time = 2)
    @Measurement(iterations = 5, time = 2)
    public static class Decode {
        @Param("tiny") public String model;
        @Param("Q8_0") public String format;
        @Param("2") public int threads;
        @Param("32") public int promptLen;
        @Param("128") public int newTokens;
        /** Panopt's KV cache (llama.cpp's context keeps F16 keys and values: LlamaCpp). */
        @Param("F16") public String kvCache;

        Pair pair;
        LlamaCpp.Model llama;
        DecodeStream panopt;
        int[][] prompt;
        final int[][] next = new int[1][1];
        final LatencyLog llamaLog = new LatencyLog();
        boolean panoptFirst;

        @Setup(Level.Trial)
        public void setup() throws Throwable {
            pair = new Pair(model, format, threads, promptLen + newTokens, promptLen);
            llama = pair.llama;
            panopt = new DecodeStream(pair.lm, pair.shape.vocab(), 1, promptLen, newTokens, DType.valueOf(kvCache));
            prompt = Prompts.ids(1, promptLen, pair.shape.vocab());
        }

        @Setup(Level.Iteration)
        public void iteration(IterationParams ip) {
            panopt.log.iteration(ip, threads); // the bracketing reads, for both systems' turns
            llamaLog.iteration(ip);
        }

        @TearDown(Level.Iteration)
        public void iterationEnd() {
            panopt.log.iterationEnd(threads);
        }

        @Setup(Level.Invocation)
        public void prefill() throws Throwable {
            panopt.prefill();
            llama.clearCache();
            llama.decode(prompt, 0);
            next[0][0] = llama.argmax(0);
        }

        @Benchmark
        public int decode() throws Throwable {
            panoptFirst = !panoptFirst;
            if (panoptFirst) {
                panoptTurn();
                llamaTurn();
            } else {
                llamaTurn();
                panoptTurn();
            }
            return panopt.last() ^ next[0][0];
        }

        private void panoptTurn() {
            for (int i = 0; i < newTokens; i++) {
                panopt.step(i);
            }
        }

        private void llamaTurn() throws Throwable {
            for (int i = 0; i < newTokens; i++) {
                long t0 = System.nanoTime();
                llama.decode(next, promptLen + i);
                next[0][0] = llama.argmax(0);
                llamaLog.add(System.nanoTime() - t0);
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            pair.write(panopt.log, llamaLog, model, LatencyLog.versus(format, promptLen, kvCache), threads);
            panopt.close();
            pair.close();
        }
    }

    /**
     * A batch-1 prompt of {@code tokens} tokens through each system in turn, empty caches, logits at the last
     * position (as {@code PanoptBench.Prefill} and {@code LlamaCppBench.Prefill}); one of each per invocation,
     * which goes first alternating, each timed into its own {@link LatencyLog} under {@link LatencyLog#versusPrefill}.
     */
    @State(Scope.Thread)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
    @Warmup(iterations = 1, time = 2)
    @Measurement(iterations = 5, time = 2)
    public static class Prefill {
        @Param("tiny") public String model;
        @Param("Q8_0") public String format;
        @Param("2") public int threads;
        @Param("128") public int tokens;

        Pair pair;
        OptForCausalLM lm;
        LlamaCpp.Model llama;
        Session session;
        int[][] ids;
        int[][] mask;
        final LatencyLog panoptLog = new LatencyLog();
        final LatencyLog llamaLog = new LatencyLog();
        boolean panoptFirst;

        @Setup(Level.Trial)
        public void setup() throws Throwable {
            pair = new Pair(model, format, threads, tokens, tokens);
            lm = pair.lm;
            llama = pair.llama;
            session = lm.newSession(SessionOptions.builder().maxBatch(1).maxSequenceLength(tokens).build());
            ids = Prompts.ids(1, tokens, pair.shape.vocab());
            mask = Prompts.ones(1, tokens);
        }

        @Setup(Level.Iteration)
        public void iteration(IterationParams ip) {
            panoptLog.iteration(ip);
            llamaLog.iteration(ip);
        }

        @Benchmark
        public float prefill() throws Throwable {
            panoptFirst = !panoptFirst;
            float a, b;
            if (panoptFirst) {
                a = panoptTurn();
                b = llamaTurn();
            } else {
                b = llamaTurn();
                a = panoptTurn();
            }
            return a + b;
        }

        private float panoptTurn() {
            long t0 = System.nanoTime();
            session.reset();
            float v;
            try (CausalLMOutput out = lm.forwardLast(ForwardRequest.inputIds(ids).attentionMask(mask).session(session)
                    .options(PanoptBench.CACHED).build())) {
                v = out.logits().getFlat(0);
            }
            panoptLog.add(System.nanoTime() - t0);
            return v;
        }

        private float llamaTurn() throws Throwable {
            long t0 = System.nanoTime();
            llama.clearCache();
            llama.decode(ids, 0);
            int v = llama.argmax(0);
            llamaLog.add(System.nanoTime() - t0);
            return v;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            pair.write(panoptLog, llamaLog, model, LatencyLog.versusPrefill(format, tokens), threads);
            session.close();
            pair.close();
        }
    }
}
