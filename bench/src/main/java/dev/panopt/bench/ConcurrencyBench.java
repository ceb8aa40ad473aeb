package dev.panopt.bench;

import dev.panopt.Backend;
import dev.panopt.BackendOptions;
import dev.panopt.GenerationConfig;
import dev.panopt.GenerationResult;
import dev.panopt.LoadOptions;
import dev.panopt.OptForCausalLM;
import dev.panopt.tokenizer.OptTokenizer;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
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

/**
 * Many Java threads on one model: {@code sessions} threads each run {@code generate} of
 * {@code newTokens} greedy tokens for their own prompt at the same time (each call makes its own
 * session), all on one F16 model ({@code model}: a synthetic checkpoint at a real OPT shape, or the
 * bundled one) on one {@link Backend} of {@code threads} threads. One op = every
 * thread done; aggregate tok/s = sessions × newTokens ÷ op time. While it runs a sampler counts the
 * backend's worker threads ({@code panopt-cpu-*}) and all OS threads of the process; the maxima
 * go to {@code concurrency/<sessions>-<threads>.txt} under the bench output folder for the report.
 */
public final class ConcurrencyBench {
    private ConcurrencyBench() {}

    @State(Scope.Benchmark)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
    @Warmup(iterations = 1, time = 2)
    @Measurement(iterations = 3, time = 4)
    public static class Concurrent {
        @Param("opt-125m") public String model; // a ModelShape name (synthetic F16 checkpoint), or "bundled"
        @Param({"1", "2", "4", "8"}) public int sessions;
        @Param("2") public int threads;
        @Param("64") public int newTokens;

        Backend backend;
        OptForCausalLM lm;
        OptTokenizer tokenizer;
        GenerationConfig config;
        ExecutorService callers;
        Thread sampler;
        final AtomicBoolean sampling = new AtomicBoolean();
        final AtomicInteger maxWorkers = new AtomicInteger();
        final AtomicInteger maxOsThreads = new AtomicInteger();

        @Setup(Level.Trial)
        public void setup() throws IOException {
            Path repo = TokenizerBench.repo();
            tokenizer = OptTokenizer.fromPretrained(TokenizerBench.tokenizerDir());
            backend = Backend.create(BackendOptions.builder().threads(threads).build());
            Path dir = model.equals("bundled") ? repo.resolve("conformance/fixtures/cases/opt125m-shape-f16")
                    : Checkpoints.opt(ModelShape.of(model), "F16");
            lm = OptForCausalLM.fromPretrained(dir,
                    LoadOptions.builder().backend(backend).build());
            config = GenerationConfig.builder().maxNewTokens(newTokens).eosTokenIds().build();
            callers = Executors.newFixedThreadPool(sessions);
            sampling.set(true);
            sampler = Thread.ofPlatform().daemon().name("thread-sampler").start(() -> {
                while (sampling.get()) {
                    int[] n = countThreads();
                    maxWorkers.accumulateAndGet(n[0], Math::max);
                    maxOsThreads.accumulateAndGet(n[1], Math::max);
                    try {
                        Thread.sleep(2);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
        }

        @Benchmark
        public int generate() throws Exception {
            String[] base = {"Hello, my dog is", "The history of the Roman empire", "In a shocking finding, scientists",
                "Once upon a time there was"};
            List<Future<GenerationResult>> fs = new ArrayList<>(sessions);
            for (int i = 0; i < sessions; i++) {
                String prompt = base[i % base.length];
                fs.add(callers.submit(() -> lm.generate(tokenizer, List.of(prompt), config)));
            }
            int tokens = 0;
            for (Future<GenerationResult> f : fs) {
                tokens += f.get().tokens(0).length;
            }
            return tokens;
        }

        @TearDown(Level.Trial)
        public void tearDown() throws IOException, InterruptedException {
            sampling.set(false);
            sampler.join();
            callers.shutdownNow();
            lm.close();
            backend.close();
            String line = String.format(Locale.ROOT, "sessions=%d threads=%d backend_threads=%d max_worker_threads=%d max_os_threads=%d%n",
                    sessions, threads, backend.threads(), maxWorkers.get(), maxOsThreads.get());
            System.out.print("[concurrency] " + line);
            String out = System.getProperty("panopt.bench.out");
            if (out != null) {
                Path dir = Path.of(out, "concurrency");
                Files.createDirectories(dir);
                Files.writeString(dir.resolve(sessions + "-" + threads + ".txt"), line);
            }
        }
    }

    /** [worker threads named panopt-cpu-*, all OS threads of this process], from /proc. */
    static int[] countThreads() {
        int workers = 0;
        int all = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path t : tasks) {
                all++;
                try {
                    if (Files.readString(t.resolve("comm")).startsWith("panopt-cpu-")) {
                        workers++;
                    }
                } catch (IOException gone) {
                    // the thread ended while we looked
                }
            }
        } catch (IOException e) {
            return new int[] {-1, -1};
        }
        return new int[] {workers, all};
    }

    /** The sampler's figures for one trial, or null if the trial wrote none. */
    static String recorded(Path benchOut, int sessions, int threads) {
        Path f = benchOut.resolve("concurrency").resolve(sessions + "-" + threads + ".txt");
        try {
            return Files.isRegularFile(f) ? Files.readString(f).trim() : null;
        } catch (IOException e) {
            return null;
        }
    }
}
