package dev.panopt.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * Per-token decode latencies of the measurement iterations of one trial, written when the trial
 * ends to {@code <panopt.bench.out>/latency/<system>_<model>_<format>_b<batch>_t<threads>.txt} (one
 * step latency in ns per line; a step produces one token per row of the batch). The report turns them
 * into tokens/s and p50/p99. Without {@code panopt.bench.out} nothing is written.
 */
public final class LatencyLog {
    private long[] ns = new long[1024];
    private int n;
    private boolean measuring;

    public void iteration(IterationParams ip) {
        measuring = ip.getType() == IterationType.MEASUREMENT;
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
            Files.writeString(dir.resolve(key(system, model, format, batch, threads) + ".txt"), b,
                    StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The format part of a key for a benchmark with a prompt length and a KV-cache type among its parameters. */
    public static String variant(String format, int promptLen, String kvCache) {
        return format + "_p" + promptLen + "_kv" + kvCache;
    }

    public static String key(String system, String model, String format, int batch, int threads) {
        return system + "_" + model + "_" + format + "_b" + batch + "_t" + threads;
    }
}
