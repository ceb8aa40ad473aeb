package dev.panopt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Smoke pass of every benchmark so none can rot: {@link Suite#runSuite} with the smoke plan runs each
 * {@code @Benchmark} method (Panopt, llama.cpp C API and binding, Jlama) once on the tiny shape in a
 * forked JVM (JMH: 0 warm-up, 1 iteration of 100 ms) and fails on any error or missing result. The
 * peers are skipped only for a missing CPU feature: the jar's llama.cpp build needs AVX2 (it fails
 * loudly on anything else).
 */
class BenchSmokeTest {
    @Test
    void everyBenchmarkRunsOnce() throws Exception {
        String cpuinfo = Files.isReadable(Path.of("/proc/cpuinfo")) ? Files.readString(Path.of("/proc/cpuinfo")) : "";
        assertTrue(cpuinfo.contains(" avx2"), "llama.cpp in de.kherud:llama 4.2.0 is built for AVX2; this CPU lacks it");
        Path out = Path.of("target", "bench-smoke");
        Path results = out.resolve("report");
        // -Dpanopt.bench.only=REGEX runs only the matching smoke trials (a quick check of one benchmark).
        String only = System.getProperty("panopt.bench.only");
        long t0 = System.nanoTime();
        boolean complete = Suite.runSuite(true, Math.min(2, Runtime.getRuntime().availableProcessors()), out, results, only);
        System.out.printf("[bench] smoke pass: %.1f s%n", (System.nanoTime() - t0) / 1e9);
        assertTrue(complete, "some planned smoke trials produced no result: see " + results.resolve("RESULTS.md"));
        String json = Files.readString(results.resolve("results.json"));
        if (only != null) {
            assertTrue(json.contains("\"system\": "), "no record for --only " + only);
            return;
        }
        for (String system : new String[] {"panopt", "llama.cpp-capi", "llama.cpp-binding", "jlama", "hf-tokenizers"}) {
            assertTrue(json.contains("\"system\": \"" + system + "\""), system + " has no record");
        }
        assertTrue(json.contains("\"workload\": \"generate-4\""), "the text-generation benchmark has no record");
        assertTrue(json.contains("\"workload\": \"score-16\""), "the scoring benchmark has no record");
        // Every decode trial left its per-step latencies and its in-trial bandwidth readings (the
        // alternated pair: one set, taken by its long stream).
        List<String> logs;
        try (var s = Files.list(out.resolve("latency"))) {
            logs = s.map(p -> p.getFileName().toString()).toList();
        }
        long promptLogs = logs.stream().filter(n -> n.endsWith(".txt") && n.contains("_prefill_vs_")).count();
        long decodeLogs = logs.stream().filter(n -> n.endsWith(".txt")).count() - promptLogs;
        long bandwidthLogs = logs.stream().filter(n -> n.endsWith(".bw")).count();
        assertEquals(2, promptLogs, "the prompts in turns: one log per system");
        assertEquals(4 + 2 + 2 + 6 + 1 + 1, decodeLogs, "decode latency logs (Panopt 4: F16 and Q8_0 at batch 1 and 2, "
                + "the alternated pair's 2, Panopt and llama.cpp's turns 2; C API 6, binding 1, Jlama 1)");
        assertEquals(decodeLogs - 2, bandwidthLogs, "in-trial bandwidth readings, one set per decode trial (the alternated "
                + "pair's and the turns' taken by one of their streams)");
        assertTrue(java.util.regex.Pattern.compile("\"trial_floor_fraction\": [0-9]").matcher(json).find(),
                "no decode record with a fraction of its in-trial floor");
        // every iteration bracketed by reads before and after it (the tear-down hooks ran)
        assertTrue(java.util.regex.Pattern.compile("\"bracketed_floor_fraction\": [0-9]").matcher(json).find(),
                "no decode record with a fraction of its bracketed floors");
        assertTrue(java.util.regex.Pattern.compile("\"handoff_ns\": [0-9]").matcher(json).find(), "no hand-off latency read");
        assertTrue(json.contains("\"workload\": \"decode-versus\", \"system\": \"llama.cpp-capi\"")
                && json.contains("**Panopt ÷ llama.cpp-capi: "), "the turns of Panopt and llama.cpp have no records with their ratio");
        assertTrue(json.contains("\"workload\": \"prefill-16-versus\", \"system\": \"llama.cpp-capi\"")
                && json.contains("prompts in turns: "), "the prompts in turns have no records with their ratio");
        assertTrue(json.contains("alternated with prompt 4") && json.contains("p50 ÷ the alternated prompt-4 step"),
                "the alternated decode has no record with its ratio");
    }
}
