package dev.panopt.cli;

import dev.panopt.LoadOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Stream;

/** A one-line loading progress bar on a terminal stream (redrawn at most every 1%). */
final class ProgressBar implements LoadOptions.LoadProgress {
    /** Checkpoints above this size get a bar (and are read while loading). */
    static final long THRESHOLD = 200L << 20;

    private final String label;
    private final PrintStream out;
    private int lastPercent = -1;
    private final long t0 = System.nanoTime();

    ProgressBar(String label, PrintStream out) {
        this.label = label;
        this.out = out;
    }

    @Override
    public void update(long done, long total) {
        int pct = total == 0 ? 100 : (int) (100 * done / total);
        if (pct == lastPercent) {
            return;
        }
        lastPercent = pct;
        int width = 30;
        int filled = pct * width / 100;
        double secs = (System.nanoTime() - t0) / 1e9;
        out.printf(Locale.ROOT, "\r%s [%s%s] %3d%% %,d/%,d MB %.1fs", label, "#".repeat(filled), " ".repeat(width - filled),
                pct, done >> 20, total >> 20, secs);
        if (done >= total) {
            out.println();
        }
        out.flush();
    }

    /** Size of the weight files in a checkpoint directory. */
    static long weightBytes(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> {
                String n = p.getFileName().toString();
                return n.endsWith(".safetensors") || n.endsWith(".bin");
            }).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        }
    }
}
