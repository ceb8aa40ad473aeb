package dev.panopt.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs the benchmark suite: machine probes, the planned JMH runs (each trial in a forked JVM), then
 * {@link Report} writes RESULTS.md and results.json. {@code --smoke} runs every benchmark method once
 * on the tiny shape with tiny settings and fails on any error (what {@code mvn verify} runs).
 *
 * <pre>java -cp ... dev.panopt.bench.Suite [--smoke] [--out DIR] [--results DIR] [--threads N] [--only REGEX]</pre>
 */
public final class Suite {
    static final String PB = "dev.panopt.bench.";

    /** One planned JMH run: a benchmark method, its parameter values (cartesian product), iterations. */
    record Entry(String system, String workload, String method, Map<String, String[]> params, int warmups,
                 int iterations, double seconds, String[] jvm) {
        /** What {@code --only REGEX} is matched against: method, system and models. */
        String filterKey() {
            return method + " " + system + " " + String.join(",", params.getOrDefault("model", new String[0]));
        }
    }

    /** One measured trial. */
    record Trial(String system, String workload, String method, Map<String, String> params, double score,
                 double error, String unit) {
        String p(String k, String dflt) {
            return params.getOrDefault(k, dflt);
        }
    }

    final boolean smoke;
    final int threads;
    final Path out;
    final List<Entry> plan = new ArrayList<>();
    final List<String> trimmed = new ArrayList<>();
    /** Peer forms that cannot run at all, with the reason (listed under "Could not run"). */
    final List<String> unsupported = new ArrayList<>(List.of(
            "Jlama Q4: Jlama 0.8.4's GPT-2 loader ignores the Q4 request and keeps the F32 weights (checked by JlamaBench: "
                    + "format=Q4 fails with that reason), so Jlama runs F32 only; it has no Q8 weights at all",
            "llama.cpp binding at batch 8: the binding has no batch API (one request per sequence through server slots)"));

    Suite(boolean smoke, int threads, Path out) {
        this.smoke = smoke;
        this.threads = threads;
        this.out = out;
    }

    String[] jvm(String... extra) {
        List<String> a = new ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED", "-Xss4m",
                "-Dpanopt.bench.cache=" + Checkpoints.cacheDir(), "-Dpanopt.repo=" + repoRoot(), "-Dai.djl.offline=true", "-Dpanopt.bench.out=" + out.toAbsolutePath(),
                // decode trials probe the read bandwidth in their own process (LatencyLog)
                "-Dpanopt.probe.library=" + System.getProperty("panopt.probe.library", "")));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    /** The repository root (bench/run starts in it, Surefire in bench/). */
    static Path repoRoot() {
        Path here = Path.of("").toAbsolutePath();
        return Files.isDirectory(here.resolve("conformance/fixtures")) ? here : here.getParent();
    }

    String[] jvmBinding() {
        return jvm("-Djmh.shutdownTimeout=1", "-Djmh.shutdownTimeout.step=1");
    }

    String[] jvmJlama() {
        return jvm("--add-modules", "jdk.incubator.vector");
    }

    static Map<String, String[]> p(String... kv) {
        Map<String, String[]> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1].split(","));
        }
        return m;
    }

    void add(String system, String workload, String method, Map<String, String[]> params, int wi, int i, double s, String[] jvm) {
        plan.add(new Entry(system, workload, method, params, wi, i, s, jvm));
    }

    /** The smoke plan: every benchmark method once, tiny shape, tiny lengths. */
    void smokePlan() {
        String t = String.valueOf(threads);
        String[] jb = jvmBinding(), jj = jvmJlama(), j = jvm();
        add("panopt", "prefill-16", PB + "PanoptBench.Prefill.prefill", p("model", "tiny", "format", "F16,F32", "batch", "1,2", "threads", t, "tokens", "16"), 0, 1, 0.1, j);
        add("panopt", "prefill-16", PB + "PanoptBench.Prefill.prefill", p("model", "tiny", "format", "F16", "batch", "1", "threads", t, "tokens", "16", "computeType", "BF16"), 0, 1, 0.1, j);
        add("panopt", "decode-8", PB + "PanoptBench.Decode.decode", p("model", "tiny", "format", "F16,Q8_0", "batch", "1,2", "threads", t, "promptLen", "4", "newTokens", "8"), 0, 1, 0.1, j);
        add("panopt", "decode-ctx-alt", PB + "PanoptBench.DecodeAlternating.decode", p("model", "tiny", "format", "F16", "threads", t, "promptLen", "24", "shortLen", "4", "newTokens", "8", "kvCache", "F16"), 0, 1, 0.1, j);
        add("panopt", Report.VERSUS, PB + "VersusBench.Decode.decode", p("model", "tiny", "format", "Q8_0", "threads", t, "promptLen", "4", "newTokens", "8", "kvCache", "F16"), 0, 1, 0.1, j);
        add("panopt", "prefill-16" + Report.VERSUS_SUFFIX, PB + "VersusBench.Prefill.prefill", p("model", "tiny", "format", "Q8_0", "threads", t, "tokens", "16"), 0, 1, 0.1, j);
        add("panopt", "load", PB + "PanoptBench.Load.load", p("model", "tiny", "format", "F16"), 0, 1, 0.1, j);
        add("panopt", "load", PB + "PanoptBench.Load.load", p("model", "tiny", "format", "Q4_0", "file", "gguf"), 0, 1, 0.1, j);
        add("panopt", "downcall", PB + "PanoptBench.Downcall.abiVersion", p(), 0, 1, 0.1, j);
        add("llama.cpp-capi", "prefill-16", PB + "LlamaCppBench.Prefill.prefill", p("model", "tiny", "format", "F16", "batch", "1,2", "threads", t, "tokens", "16"), 0, 1, 0.1, j);
        add("llama.cpp-capi", "decode-8", PB + "LlamaCppBench.Decode.decode", p("model", "tiny", "format", "F16,Q8_0,Q4_0", "batch", "1,2", "threads", t, "promptLen", "4", "newTokens", "8"), 0, 1, 0.1, j);
        add("llama.cpp-capi", "load", PB + "LlamaCppBench.Load.load", p("model", "tiny", "format", "Q8_0", "threads", t), 0, 1, 0.1, j);
        add("llama.cpp-binding", "prefill-16", PB + "LlamaBindingBench.Prefill.prefill", p("model", "tiny", "format", "Q8_0", "threads", t, "tokens", "16"), 0, 1, 0.1, jb);
        add("llama.cpp-binding", "decode-8", PB + "LlamaBindingBench.Decode.decode", p("model", "tiny", "format", "Q8_0", "threads", t, "promptLen", "4", "newTokens", "8"), 0, 1, 0.1, jb);
        add("jlama", "prefill-16", PB + "JlamaBench.Prefill.prefill", p("model", "tiny", "format", "F32", "threads", t, "tokens", "16"), 0, 1, 0.1, jj);
        add("jlama", "decode-8", PB + "JlamaBench.Decode.decode", p("model", "tiny", "format", "F32", "threads", t, "promptLen", "4", "newTokens", "8"), 0, 1, 0.1, jj);
        add("tokenizer", "tokenize", PB + "TokenizerBench.Encode.encode", p("text", "english,unicode", "tokenizer", "panopt,hf-tokenizers", "megabytes", "0.05"), 0, 1, 0.1, j);
        add("panopt", "load-tokenizer", PB + "TokenizerBench.Load.load", p(), 0, 1, 0.1, j);
        add("panopt", "generate-4", PB + "GenerateBench.Generate.generate", p("batch", "1,2", "threads", t, "newTokens", "4"), 0, 1, 0.1, j);
        add("panopt", "concurrent-4", PB + "ConcurrencyBench.Concurrent.generate", p("model", "bundled", "sessions", "1,4", "threads", t, "newTokens", "4"), 0, 1, 0.1, j);
        add("panopt", "score-16", PB + "ScoreBench.Score.score", p("model", "bundled", "format", "F16", "batch", "2", "threads", t, "tokens", "16"), 0, 1, 0.1, j);
    }

    /** The full plan, sized for ~35 minutes on 2 cores (see bench/README.md for what is trimmed). */
    void fullPlan() {
        String t = String.valueOf(threads);
        String[] jb = jvmBinding(), jj = jvmJlama(), j = jvm();
        String m = "opt-125m";
        // opt-125m: everything. Panopt's decode rows keep keys/values in F16, as llama.cpp's context does
        // (LlamaCpp checks type_k/type_v); an F32 cache reads twice the bytes (opt-125m: 74 KB per position and row).
        add("panopt", "prefill-128", PB + "PanoptBench.Prefill.prefill", p("model", m, "format", "F16,F32,Q8_0,Q4_0", "batch", "1,8", "threads", t, "tokens", "128"), 1, 3, 2, j);
        add("panopt", "prefill-512", PB + "PanoptBench.Prefill.prefill", p("model", m, "format", "F16,Q8_0,Q4_0,Q4_K_M", "batch", "1", "threads", t, "tokens", "512"), 1, 3, 2, j);
        add("panopt", "prefill-512", PB + "PanoptBench.Prefill.prefill", p("model", m, "format", "F16", "batch", "1", "threads", t, "tokens", "512", "computeType", "BF16"), 1, 3, 2, j);
        add("panopt", "decode-128", PB + "PanoptBench.Decode.decode", p("model", m, "format", "F16,F32,Q8_0,Q4_0,Q4_K_M", "batch", "1,8", "threads", t, "promptLen", "32", "newTokens", "128", "kvCache", "F16"), 1, 3, 1, j);
        add("panopt", "decode-128", PB + "PanoptBench.Decode.decode", p("model", m, "format", "Q4_1,Q5_0,Q5_1", "batch", "1", "threads", t, "promptLen", "32", "newTokens", "128", "kvCache", "F16"), 1, 3, 1, j);
        add("panopt", "prefill-512", PB + "PanoptBench.Prefill.prefill", p("model", m, "format", "Q4_1,Q5_0,Q5_1", "batch", "1", "threads", t, "tokens", "512"), 1, 3, 2, j);
        // long contexts: a decode step at T = 2000 against T = 64 (F16 and Q8_0 caches), Q8_0 and F16 weights (with
        // Q8_0 weights an F16 cache at T = 2000 adds 74 MB to a 131 MB step: the floors' own ratio is 1.53)
        add("panopt", "decode-ctx", PB + "PanoptBench.Decode.decode", p("model", m, "format", "F16,Q8_0", "batch", "1", "threads", t, "promptLen", "48,1984", "newTokens", "32", "kvCache", "F16,Q8_0"), 1, 3, 1, j);
        // ... and the same two lengths taking turns in one process, which a noisy neighbour slows alike
        add("panopt", "decode-ctx-alt", PB + "PanoptBench.DecodeAlternating.decode", p("model", m, "format", "F16,Q8_0", "threads", t, "promptLen", "1984", "shortLen", "48", "newTokens", "32", "kvCache", "F16,Q8_0"), 1, 5, 1, j);
        // Panopt and llama.cpp taking turns in one process: their ratio at the same moment's memory bandwidth
        add("panopt", Report.VERSUS, PB + "VersusBench.Decode.decode", p("model", m, "format", "Q8_0,Q4_0,Q4_K_M", "threads", t, "promptLen", "32", "newTokens", "128", "kvCache", "F16"), 1, 5, 2, j);
        add("panopt", Report.VERSUS, PB + "VersusBench.Decode.decode", p("model", "opt-1.3b", "format", "Q8_0,Q4_0", "threads", t, "promptLen", "32", "newTokens", "128", "kvCache", "F16"), 1, 3, 1, j);
        add("panopt", "prefill-512" + Report.VERSUS_SUFFIX, PB + "VersusBench.Prefill.prefill", p("model", m, "format", "Q8_0,Q4_0,Q4_K_M", "threads", t, "tokens", "512"), 1, 5, 2, j);
        add("panopt", "prefill-512" + Report.VERSUS_SUFFIX, PB + "VersusBench.Prefill.prefill", p("model", "opt-1.3b", "format", "Q8_0,Q4_0", "threads", t, "tokens", "512"), 1, 3, 2, j);
        add("panopt", "load", PB + "PanoptBench.Load.load", p("model", m + ",opt-1.3b", "format", "F16"), 1, 3, 0, j);
        add("panopt", "load", PB + "PanoptBench.Load.load", p("model", m + ",opt-1.3b", "format", "Q4_0", "file", "gguf",
                "repack", "true,false"), 1, 3, 0, j);
        add("panopt", "downcall", PB + "PanoptBench.Downcall.abiVersion", p(), 2, 3, 1, j);
        add("llama.cpp-capi", "prefill-128", PB + "LlamaCppBench.Prefill.prefill", p("model", m, "format", "F16,Q8_0,Q4_0", "batch", "1,8", "threads", t, "tokens", "128"), 1, 3, 2, j);
        add("llama.cpp-capi", "prefill-512", PB + "LlamaCppBench.Prefill.prefill", p("model", m, "format", "F16,Q8_0,Q4_0,Q4_K_M", "batch", "1", "threads", t, "tokens", "512"), 1, 3, 2, j);
        add("llama.cpp-capi", "decode-128", PB + "LlamaCppBench.Decode.decode", p("model", m, "format", "F16,Q8_0,Q4_0", "batch", "1,8", "threads", t, "promptLen", "32", "newTokens", "128"), 1, 3, 1, j);
        add("llama.cpp-capi", "decode-128", PB + "LlamaCppBench.Decode.decode", p("model", m, "format", "Q4_K_M", "batch", "1", "threads", t, "promptLen", "32", "newTokens", "128"), 1, 3, 1, j);
        add("llama.cpp-capi", "decode-128", PB + "LlamaCppBench.Decode.decode", p("model", m, "format", "Q4_1,Q5_0,Q5_1", "batch", "1", "threads", t, "promptLen", "32", "newTokens", "128"), 1, 3, 1, j);
        add("llama.cpp-capi", "prefill-512", PB + "LlamaCppBench.Prefill.prefill", p("model", m, "format", "Q4_1,Q5_0,Q5_1", "batch", "1", "threads", t, "tokens", "512"), 1, 3, 2, j);
        add("llama.cpp-capi", "load", PB + "LlamaCppBench.Load.load", p("model", m + ",opt-1.3b", "format", "F16,Q4_0", "threads", t), 1, 3, 0, j);
        add("llama.cpp-binding", "prefill-128", PB + "LlamaBindingBench.Prefill.prefill", p("model", m, "format", "F16,Q8_0", "threads", t, "tokens", "128"), 1, 3, 2, jb);
        add("llama.cpp-binding", "prefill-512", PB + "LlamaBindingBench.Prefill.prefill", p("model", m, "format", "Q8_0", "threads", t, "tokens", "512"), 1, 3, 2, jb);
        add("llama.cpp-binding", "decode-128", PB + "LlamaBindingBench.Decode.decode", p("model", m, "format", "F16,Q8_0", "threads", t, "promptLen", "32", "newTokens", "128"), 1, 3, 1, jb);
        add("jlama", "prefill-128", PB + "JlamaBench.Prefill.prefill", p("model", m, "format", "F32", "threads", t, "tokens", "128"), 1, 2, 2, jj);
        add("jlama", "decode-128", PB + "JlamaBench.Decode.decode", p("model", m, "format", "F32", "threads", t, "promptLen", "32", "newTokens", "128"), 1, 2, 1, jj);
        // opt-350m (GPT-2 twin without project_in/out and post-LN): batch 1.
        m = "opt-350m";
        add("panopt", "prefill-128", PB + "PanoptBench.Prefill.prefill", p("model", m, "format", "F16", "batch", "1", "threads", t, "tokens", "128"), 1, 2, 2, j);
        add("panopt", "decode-128", PB + "PanoptBench.Decode.decode", p("model", m, "format", "F16", "batch", "1", "threads", t, "promptLen", "32", "newTokens", "128", "kvCache", "F16"), 1, 2, 1, j);
        add("llama.cpp-capi", "prefill-128", PB + "LlamaCppBench.Prefill.prefill", p("model", m, "format", "F16,Q8_0", "batch", "1", "threads", t, "tokens", "128"), 1, 2, 2, j);
        add("llama.cpp-capi", "decode-128", PB + "LlamaCppBench.Decode.decode", p("model", m, "format", "F16,Q8_0", "batch", "1", "threads", t, "promptLen", "32", "newTokens", "128"), 1, 2, 1, j);
        // opt-1.3b: batch 1, one invocation per iteration (a 128-token decode takes seconds).
        m = "opt-1.3b";
        add("panopt", "prefill-128", PB + "PanoptBench.Prefill.prefill", p("model", m, "format", "F16,Q8_0,Q4_0", "batch", "1", "threads", t, "tokens", "128"), 1, 2, 1, j);
        add("panopt", "prefill-128", PB + "PanoptBench.Prefill.prefill", p("model", m, "format", "F16", "batch", "1", "threads", t, "tokens", "128", "computeType", "BF16"), 1, 2, 1, j);
        add("panopt", "prefill-512", PB + "PanoptBench.Prefill.prefill", p("model", m, "format", "F16,Q8_0,Q4_0", "batch", "1", "threads", t, "tokens", "512"), 1, 2, 1, j);
        add("panopt", "decode-128", PB + "PanoptBench.Decode.decode", p("model", m, "format", "F16,Q8_0,Q4_0", "batch", "1", "threads", t, "promptLen", "32", "newTokens", "128", "kvCache", "F16"), 1, 2, 1, j);
        add("llama.cpp-capi", "prefill-128", PB + "LlamaCppBench.Prefill.prefill", p("model", m, "format", "F16,Q8_0,Q4_0", "batch", "1", "threads", t, "tokens", "128"), 1, 2, 1, j);
        add("llama.cpp-capi", "prefill-512", PB + "LlamaCppBench.Prefill.prefill", p("model", m, "format", "F16,Q8_0,Q4_0", "batch", "1", "threads", t, "tokens", "512"), 1, 2, 1, j);
        add("llama.cpp-capi", "decode-128", PB + "LlamaCppBench.Decode.decode", p("model", m, "format", "F16,Q8_0,Q4_0", "batch", "1", "threads", t, "promptLen", "32", "newTokens", "128"), 1, 2, 1, j);
        add("tokenizer", "tokenize", PB + "TokenizerBench.Encode.encode", p("text", "english,unicode", "tokenizer", "panopt,hf-tokenizers", "megabytes", "4"), 1, 3, 2, j);
        add("panopt", "load-tokenizer", PB + "TokenizerBench.Load.load", p(), 1, 3, 1, j);
        add("panopt", "generate-64", PB + "GenerateBench.Generate.generate", p("batch", "1,4", "threads", t, "newTokens", "64"), 1, 3, 2, j);
        add("panopt", "concurrent-64", PB + "ConcurrencyBench.Concurrent.generate", p("model", "opt-125m", "sessions", "1,2,4,8", "threads", t, "newTokens", "64"), 1, 3, 8, j);
        add("panopt", "score-128", PB + "ScoreBench.Score.score", p("model", m, "format", "F16", "batch", "8", "threads", t, "tokens", "128"), 1, 3, 2, j);
        trimmed.add("prefill-512 at batch 8 (4096 tokens per call: ~10 s each on 2 cores) is not run; batch 8 is measured for prefill-128 and decode-128 on opt-125m only");
        trimmed.add("opt-350m and opt-1.3b: batch 1 only; opt-350m peers F16/Q8_0 only; opt-1.3b 1 warm-up + 2 measured iterations");
        trimmed.add("decode: iterations of 1 s, i.e. one 128-token invocation per iteration for every shape but the tiny one (1 warm-up + 3 measured for opt-125m, 1 + 2 otherwise)");
        trimmed.add("llama.cpp binding: batch 1 only (its API has no batch; parallel requests would need its server slots), formats F16/Q8_0, opt-125m only; prefill through the binding is a request with 1 new token");
        trimmed.add("Jlama: opt-125m shape only (F32 weights of larger shapes take GBs), batch 1 (its generation API is single-sequence)");
        trimmed.add("model load: Panopt (HF F16 checkpoint; GGUF Q4_0) and llama.cpp C API (F16, Q4_0 twins) for opt-125m and opt-1.3b, files in the page cache; not the binding or Jlama");
    }

    List<Trial> run(String only) throws RunnerException, IOException {
        Files.createDirectories(out.resolve("jmh"));
        List<Trial> trials = new ArrayList<>();
        Pattern filter = only == null ? null : Pattern.compile(only);
        int k = 0;
        for (Entry e : plan) {
            k++;
            if (filter != null && !filter.matcher(e.filterKey()).find()) {
                continue;
            }
            ChainedOptionsBuilder o = new OptionsBuilder().include("^" + Pattern.quote(e.method) + "$")
                    .forks(1).warmupIterations(e.warmups).measurementIterations(e.iterations)
                    .jvmArgsAppend(e.jvm).shouldFailOnError(smoke)
                    .result(out.resolve("jmh").resolve(String.format("%02d-%s.json", k, e.method.substring(PB.length()))).toString())
                    .resultFormat(ResultFormatType.JSON)
                    .output(out.resolve("jmh.log").toString() + "." + k);
            if (e.seconds > 0) {
                o.warmupTime(TimeValue.milliseconds((long) (e.seconds * 1000)))
                        .measurementTime(TimeValue.milliseconds((long) (e.seconds * 1000)));
            }
            e.params.forEach(o::param);
            long t0 = System.nanoTime();
            System.out.printf("[bench] %2d/%d %s %s ...%n", k, plan.size(), e.method.substring(PB.length()), describe(e.params));
            Collection<RunResult> rs;
            try {
                rs = new Runner(o.build()).run();
            } catch (RunnerException ex) {
                System.out.println("[bench]    FAILED: " + ex.getMessage() + " (see " + out.resolve("jmh.log") + "." + k + ")");
                if (smoke) {
                    throw new RunnerException("benchmark " + e.method + " failed; log: " + out.resolve("jmh.log") + "." + k, ex);
                }
                continue;
            }
            int expected = 1;
            for (String[] v : e.params.values()) {
                expected *= v.length;
            }
            for (RunResult r : rs) {
                BenchmarkParams bp = r.getParams();
                Map<String, String> ps = new LinkedHashMap<>();
                for (String key : bp.getParamsKeys()) {
                    ps.put(key, bp.getParam(key));
                }
                var pr = r.getPrimaryResult();
                Trial tr = new Trial(e.system, e.workload, e.method, ps, pr.getScore(), pr.getScoreError(), pr.getScoreUnit());
                trials.add(tr);
                System.out.printf("[bench]      %s %s = %.4g %s%n", e.method.substring(PB.length()), ps, pr.getScore(), pr.getScoreUnit());
            }
            if (rs.size() < expected) {
                String msg = e.method + ": " + rs.size() + " of " + expected + " trials produced results (see " + out.resolve("jmh.log") + "." + k + ")";
                System.out.println("[bench]    " + msg);
                if (smoke) {
                    throw new RunnerException(msg);
                }
            }
            System.out.printf("[bench]    %.1f s%n", (System.nanoTime() - t0) / 1e9);
        }
        return trials;
    }

    static String describe(Map<String, String[]> ps) {
        StringBuilder b = new StringBuilder();
        ps.forEach((k, v) -> b.append(k).append('=').append(String.join("|", v)).append(' '));
        return b.toString().trim();
    }

    /** Generates the checkpoints the plan needs up front, so no trial pays for it. */
    void prepare() {
        for (Entry e : plan) {
            String[] models = e.params.getOrDefault("model", new String[0]);
            String[] formats = e.params.getOrDefault("format", new String[0]);
            for (String m : models) {
                if (m.equals("bundled")) {
                    continue; // the repository's own checkpoint: nothing to generate
                }
                ModelShape s = ModelShape.of(m);
                for (String f : formats) {
                    switch (e.system) {
                        case "panopt" -> {
                            Checkpoints.opt(s, f.equals("F32") ? "F32" : "F16"); // others quantize F16 on load
                            if (List.of(e.params.getOrDefault("file", new String[0])).contains("gguf")) {
                                Checkpoints.optGguf(s, f);
                            }
                        }
                        case "llama.cpp-capi", "llama.cpp-binding" -> Checkpoints.gguf(s, f);
                        case "jlama" -> Checkpoints.gpt2Dir(s);
                        default -> { }
                    }
                }
            }
        }
    }

    public static void main(String[] args) throws Exception {
        boolean smoke = false;
        Path out = Path.of("bench/target/bench-out");
        Path results = Path.of("bench");
        int threads = Math.min(2, Runtime.getRuntime().availableProcessors());
        String only = null;
        boolean reportOnly = false;
        List<String> notes = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--smoke" -> smoke = true;
                case "--report-only" -> reportOnly = true;
                case "--note" -> notes.add(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--results" -> results = Path.of(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--only" -> only = args[++i];
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (reportOnly) {
            System.exit(reReport(smoke, threads, out, results, notes, only) ? 0 : 1);
        }
        System.exit(runSuite(smoke, threads, out, results, only) ? 0 : 1);
    }

    /**
     * Rebuilds RESULTS.md/results.json from a finished run's files (JMH JSON in {@code out/jmh},
     * latency logs, the machine probes in {@code out/machine.json} or the previous results.json),
     * without measuring anything again; {@code only} (null: all) as the run was given it.
     */
    static boolean reReport(boolean smoke, int threads, Path out, Path results, List<String> notes, String only) throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper om = new com.fasterxml.jackson.databind.ObjectMapper();
        Suite suite = plan(smoke, threads, out, only);
        Path mj = out.resolve("machine.json");
        com.fasterxml.jackson.databind.JsonNode prev = Files.exists(results.resolve("results.json"))
                ? om.readTree(results.resolve("results.json").toFile()) : null;
        com.fasterxml.jackson.databind.JsonNode m = Files.exists(mj) ? om.readTree(mj.toFile()) : prev.get("machine");
        Report.Machine machine = new Report.Machine(m.get("cpu").asText(), m.get("logical_cpus").asInt(), m.get("isa").asText(),
                m.get("memory_bytes").asLong(), m.get("jdk").asText(), m.get("os").asText(), m.get("threads").asInt(),
                m.get("peak_f32_gflops_1t").asDouble(), m.get("peak_f32_gflops").asDouble(),
                m.has("peak_int8_gops") ? m.get("peak_int8_gops").asDouble() : Double.NaN,
                m.has("peak_bf16_gflops") ? m.get("peak_bf16_gflops").asDouble() : Double.NaN, readings(m, "read_gbps_1t"),
                readings(m, "read_gbps_2t"));
        List<Trial> trials = new ArrayList<>();
        try (var files = Files.list(out.resolve("jmh"))) {
            for (Path f : files.filter(x -> x.toString().endsWith(".json")).sorted().toList()) {
                for (var r : om.readTree(f.toFile())) {
                    String method = r.get("benchmark").asText();
                    Map<String, String> ps = new LinkedHashMap<>();
                    if (r.has("params")) {
                        r.get("params").fields().forEachRemaining(en -> ps.put(en.getKey(), en.getValue().asText()));
                    }
                    var pm = r.get("primaryMetric");
                    double err = pm.get("scoreError").isNumber() ? pm.get("scoreError").asDouble() : Double.NaN;
                    for (Entry e : suite.plan) {
                        Trial t = new Trial(e.system(), e.workload(), method, ps, pm.get("score").asDouble(), err, pm.get("scoreUnit").asText());
                        if (e.method().equals(method) && Report.matchesPublic(t, e)) {
                            trials.add(t);
                            break;
                        }
                    }
                }
            }
        }
        String date = prev != null && prev.has("date") ? prev.get("date").asText()
                : ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        Report rep = new Report(trials, machine, out, date, suite.trimmed, suite.plan, smoke);
        rep.unsupported.addAll(suite.unsupported);
        rep.notes.addAll(notes);
        rep.write(results);
        System.out.println("[bench] report rebuilt from " + trials.size() + " trials: " + results.resolve("RESULTS.md"));
        return rep.missing().isEmpty();
    }

    private static List<Double> readings(com.fasterxml.jackson.databind.JsonNode m, String key) {
        List<Double> v = new ArrayList<>();
        if (m.has(key + "_probes")) {
            m.get(key + "_probes").forEach(x -> v.add(x.asDouble()));
        } else {
            v.add(m.get(key).asDouble());
        }
        return v;
    }

    /** The smoke or full plan, and of it only the entries {@code only} matches (null: all). */
    static Suite plan(boolean smoke, int threads, Path out, String only) {
        Suite suite = new Suite(smoke, threads, out);
        if (smoke) {
            suite.smokePlan();
        } else {
            suite.fullPlan();
        }
        if (only != null) {
            // The plan (and so the report's list of missing trials) is what was asked for.
            Pattern filter = Pattern.compile(only);
            suite.plan.removeIf(e -> !filter.matcher(e.filterKey()).find());
        }
        return suite;
    }

    /** Runs probes, the plan and the report; true when every planned trial produced a result. */
    public static boolean runSuite(boolean smoke, int threads, Path out, Path results, String only) throws Exception {
        long t0 = System.nanoTime();
        Files.createDirectories(out);
        try (var s = Files.list(out)) {
            for (Path p : s.toList()) {
                if (p.getFileName().toString().startsWith("jmh.log")) {
                    Files.delete(p);
                }
            }
        }
        Path lat = out.resolve("latency");
        if (Files.isDirectory(lat)) {
            try (var s = Files.list(lat)) {
                for (Path p : s.toList()) {
                    Files.delete(p);
                }
            }
        }
        Suite suite = plan(smoke, threads, out, only);
        System.out.println("[bench] probing the machine ...");
        Report.Machine machine = Report.Machine.probe(Probe.fromProperty(), threads, smoke);
        System.out.println("[bench] " + machine.summary());
        System.out.println("[bench] generating checkpoints into " + Checkpoints.cacheDir() + " ...");
        suite.prepare();
        List<Trial> trials = suite.run(only);
        System.out.println("[bench] probing the machine again ...");
        machine = machine.best(Report.Machine.probe(Probe.fromProperty(), threads, smoke));
        System.out.println("[bench] " + machine.summary());
        String date = ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        Files.writeString(out.resolve("machine.json"), new Report(List.of(), machine, out, date, List.of(), List.of(), smoke).machineJson());
        Report rep = new Report(trials, machine, out, date, suite.trimmed, suite.plan, smoke);
        rep.unsupported.addAll(suite.unsupported);
        rep.write(results);
        double mins = (System.nanoTime() - t0) / 60e9;
        System.out.printf(Locale.ROOT, "[bench] done in %.1f min: %s, %s%n", mins, results.resolve("RESULTS.md"), results.resolve("results.json"));
        return rep.missing().isEmpty();
    }
}
