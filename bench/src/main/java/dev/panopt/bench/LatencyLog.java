package dev.panopt.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * What the measurement iterations of one decode trial saw: per-token latencies, written when the trial
 * ends to {@code <panopt.bench.out>/latency/<system>_<model>_<format>_b<batch>_t<threads>.txt} (one
 * step latency in ns per line; a step produces one token per row of the batch), and the memory read
 * bandwidth probed in the trial's own process before each measurement iteration (the same key, {@code
 * .bw}, GB/s per line; only when {@code panopt.probe.library} is set). The machine is shared, so the
 * bandwidth of the suite's own probes, minutes away, may not be the bandwidth the trial had; the report
 * gives the floor at both. Without {@code panopt.bench.out} nothing is written.
 */
public final class LatencyLog {
    /** The in-trial probe's buffer and passes: large against the last-level cache, short against an iteration. */
    static final long PROBE_BYTES = 512L << 20;
    static final int PROBE_REPS = 2;

    private long[] ns = new long[1024];
    private int n;
    private boolean measuring;
    private final List<Double> readGbps = new ArrayList<>();
    private Probe probe;

    /** Starts an iteration: only a measurement iteration's steps are kept. */
    public void iteration(IterationParams ip) {
        measuring = ip.getType() == IterationType.MEASUREMENT;
    }

    /**
     * Starts an iteration and, before a measurement iteration, reads the memory bandwidth with {@code
     * threads} threads (outside the timed region: JMH runs iteration set-up untimed).
     */
    public void iteration(IterationParams ip, int threads) {
        iteration(ip);
        String lib = System.getProperty("panopt.probe.library");
        if (measuring && lib != null && !lib.isBlank()) {
            if (probe == null) {
                probe = new Probe(Path.of(lib));
            }
            readGbps.add(probe.readGbps(threads, PROBE_BYTES, PROBE_REPS));
        }
    }

    public void add(long nanos) {
        if (!measuring) {
            return;
        }
        if (n == ns.length) {
            ns = Arrays.copyOf(ns, n * 2);
        }
        ns[n++] = nanos;
    }

    public int size() {
        return n;
    }

    public void write(String system, String model, String format, int batch, int threads) {
        String out = System.getProperty("panopt.bench.out");
        if (out == null || out.isBlank() || n == 0) {
            return;
        }
        try {
            Path dir = Path.of(out, "latency");
            Files.createDirectories(dir);
            StringBuilder b = new StringBuilder(n * 9);
            for (int i = 0; i < n; i++) {
                b.append(ns[i]).append('\n');
            }
            String key = key(system, model, format, batch, threads);
            Files.writeString(dir.resolve(key + ".txt"), b, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
            if (!readGbps.isEmpty()) {
                StringBuilder r = new StringBuilder();
                readGbps.forEach(x -> r.append(x).append('\n'));
                Files.writeString(dir.resolve(key + ".bw"), r, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The format part of a key for a benchmark with a prompt length and a KV-cache type among its parameters. */
    public static String variant(String format, int promptLen, String kvCache) {
        return format + "_p" + promptLen + "_kv" + kvCache;
    }

    /** The format part of a key for one of the two streams of an alternated decode (PanoptBench.DecodeAlternating). */
    public static String alternated(String format, int promptLen, String kvCache) {
        return variant(format, promptLen, kvCache) + "_alt";
    }

    /** The step latencies (ns) of a log file, sorted. */
    static long[] sorted(Path file) throws IOException {
        return Files.readAllLines(file).stream().filter(x -> !x.isBlank()).mapToLong(Long::parseLong).sorted().toArray();
    }

    /** The in-trial read bandwidth readings (GB/s) next to a latency file; empty when none were taken. */
    static List<Double> readings(Path latencyFile) throws IOException {
        Path bw = latencyFile.resolveSibling(latencyFile.getFileName().toString().replaceFirst("\\.txt$", ".bw"));
        return Files.isRegularFile(bw)
                ? Files.readAllLines(bw).stream().filter(x -> !x.isBlank()).map(Double::valueOf).toList() : List.of();
    }

    /** The {@code q} quantile (0..1, nearest rank) of sorted latencies, in ms. */
    static double quantileMs(long[] sorted, double q) {
        return sorted[(int) Math.min(sorted.length - 1, Math.round(q * (sorted.length - 1)))] / 1e6;
    }

    public static String key(String system, String model, String format, int batch, int threads) {
        return system + "_" + model + "_" + format + "_b" + batch + "_t" + threads;
    }
}
