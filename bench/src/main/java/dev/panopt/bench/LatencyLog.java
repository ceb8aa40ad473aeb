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
 * step latency in ns per line, in the order taken; a step produces one token per row of the batch), and
 * (only when {@code panopt.probe.library} is set) what the trial's own process measured of the machine
 * around each measurement iteration: the memory read bandwidth and the hand-off latency between two
 * threads just before it and just after it (the same key, {@code .bw}, one {@link Bracket} per line).
 * The machine is shared, and where the host places the two vCPUs changes every few seconds (sharing
 * an L3 or not, and with it the bandwidth two threads can read: bench/RESULTS.md), so the bandwidth of
 * the suite's own probes, minutes away, may not be the bandwidth the trial had; the report gives the
 * floor at both, and each iteration's at the mean of its two readings. Without {@code panopt.bench.out}
 * nothing is written.
 */
public final class LatencyLog {
    /** The in-trial probe's buffer and passes: large against the last-level cache, short against an iteration. */
    static final long PROBE_BYTES = 512L << 20;
    static final int PROBE_REPS = 2;

    /** Hand-off probe batches (of 1000 round trips) per reading: a few ms. */
    static final int HANDOFF_ROUNDS = 5;

    /**
     * One measurement iteration's readings: read bandwidth (GB/s) and thread hand-off latency (ns) just
     * before and just after it (NaN where not taken), and its steps, lines {@code [first, end)} of the
     * latency file.
     */
    record Bracket(double beforeGbps, double afterGbps, double beforeHandoffNs, double afterHandoffNs, int first, int end) {
        String line() {
            return beforeGbps + " " + afterGbps + " " + beforeHandoffNs + " " + afterHandoffNs + " " + first + " " + end;
        }

        /** A line of a .bw file; a single number (files written before brackets): the reading before. */
        static Bracket parse(String line) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 1) {
                return new Bracket(Double.parseDouble(f[0]), Double.NaN, Double.NaN, Double.NaN, 0, 0);
            }
            if (f.length != 6) {
                throw new IllegalArgumentException("a bandwidth bracket has 6 fields: " + line);
            }
            return new Bracket(Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]),
                    Double.parseDouble(f[3]), Integer.parseInt(f[4]), Integer.parseInt(f[5]));
        }

        /** Whether both readings and the iteration's steps are there. */
        boolean complete() {
            return !Double.isNaN(beforeGbps) && !Double.isNaN(afterGbps) && end > first;
        }
    }

    private long[] ns = new long[1024];
    private int n;
    private boolean measuring;
    private final List<Bracket> brackets = new ArrayList<>();
    private Bracket open; // the iteration under way: its readings before
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
            double gbps = probe.readGbps(threads, PROBE_BYTES, PROBE_REPS);
            open = new Bracket(gbps, Double.NaN, probe.handoffNs(HANDOFF_ROUNDS), Double.NaN, n, n);
        }
    }

    /**
     * Ends a measurement iteration started by {@link #iteration(IterationParams, int)}: the same readings
     * again, after its last step (untimed: JMH runs iteration tear-down outside the measurement).
     */
    public void iterationEnd(int threads) {
        if (open == null) {
            return;
        }
        double handoff = probe.handoffNs(HANDOFF_ROUNDS);
        brackets.add(new Bracket(open.beforeGbps(), probe.readGbps(threads, PROBE_BYTES, PROBE_REPS),
                open.beforeHandoffNs(), handoff, open.first(), n));
        open = null;
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
            if (open != null) { // an iteration whose end was not seen
                brackets.add(new Bracket(open.beforeGbps(), Double.NaN, open.beforeHandoffNs(), Double.NaN, open.first(), n));
                open = null;
            }
            if (!brackets.isEmpty()) {
                StringBuilder r = new StringBuilder();
                brackets.forEach(x -> r.append(x.line()).append('\n'));
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
        long[] v = inOrder(file);
        Arrays.sort(v);
        return v;
    }

    /** The format part of a key for one system's turns in a decode shared with another (VersusBench.Decode). */
    public static String versus(String format, int promptLen, String kvCache) {
        return variant(format, promptLen, kvCache) + "_vs";
    }

    /** The format part of a key for one system's prompts in a prefill shared with another (VersusBench.Prefill). */
    public static String versusPrefill(String format, int tokens) {
        return format + "_t" + tokens + "_prefill_vs";
    }

    /** The latencies (ns) of a log file in the order they were taken. */
    static long[] inOrder(Path file) throws IOException {
        return Files.readAllLines(file).stream().filter(x -> !x.isBlank()).mapToLong(Long::parseLong).toArray();
    }

    /** The in-trial readings next to a latency file, one per measurement iteration; empty when none were taken. */
    static List<Bracket> brackets(Path latencyFile) throws IOException {
        Path bw = latencyFile.resolveSibling(latencyFile.getFileName().toString().replaceFirst("\\.txt$", ".bw"));
        return Files.isRegularFile(bw)
                ? Files.readAllLines(bw).stream().filter(x -> !x.isBlank()).map(Bracket::parse).toList() : List.of();
    }

    /** The {@code q} quantile (0..1, nearest rank) of sorted latencies, in ms. */
    static double quantileMs(long[] sorted, double q) {
        return sorted[(int) Math.min(sorted.length - 1, Math.round(q * (sorted.length - 1)))] / 1e6;
    }

    public static String key(String system, String model, String format, int batch, int threads) {
        return system + "_" + model + "_" + format + "_b" + batch + "_t" + threads;
    }
}
