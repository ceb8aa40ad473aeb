package dev.panopt.cli;

import dev.panopt.LoadOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Loading progress in decimal megabytes (10^6 bytes, the unit {@code panopt info} prints). On a
 * terminal, a one-line bar redrawn with {@code \r} at most every 1%; otherwise (stderr piped or
 * redirected) no bar, only one line once loading is done.
 */
final class ProgressBar implements LoadOptions.LoadProgress {
    /** Checkpoints above this size (200 MB) get progress (and are read while loading). */
    static final long THRESHOLD = 200_000_000L;

    private final String label;
    private final PrintStream out;
    private final boolean terminal;
    private int lastPercent = -1;
    private boolean finished;
    private final long t0 = System.nanoTime();

    /**
     * @param terminal whether {@code out} is a terminal: only then is the bar drawn
     */
    ProgressBar(String label, PrintStream out, boolean terminal) {
        this.label = label;
        this.out = out;
        this.terminal = terminal;
    }

    @Override
    public void update(long done, long total) {
        if (finished) {
            return;
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        if (!terminal) {
            if (done >= total) {
                finished = true;
                out.printf(Locale.ROOT, "%s: %.1f MB in %.1f s%n", label, total / 1e6, secs);
                out.flush();
            }
            return;
        }
        int pct = total == 0 ? 100 : (int) (100 * done / total);
        if (pct == lastPercent) {
            return;
        }
        lastPercent = pct;
        int width = 30;
        int filled = pct * width / 100;
        out.printf(Locale.ROOT, "\r%s [%s%s] %3d%% %.1f/%.1f MB %.1fs", label, "#".repeat(filled),
                " ".repeat(width - filled), pct, done / 1e6, total / 1e6, secs);
        if (done >= total) {
            finished = true;
            out.println();
        }
        out.flush();
    }

    /** Size of the weight files in a checkpoint directory, or of a GGUF file. */
    static long weightBytes(Path dir) throws IOException {
        if (Files.isRegularFile(dir)) {
            return Files.size(dir);
        }
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

    /** Whether the process's stderr is a terminal ({@code isatty(2)} through FFM; false if that cannot be asked). */
    static boolean stderrIsTerminal() {
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle isatty = linker.downcallHandle(linker.defaultLookup().find("isatty").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            return (int) isatty.invokeExact(2) == 1;
        } catch (Throwable e) {
            return false;
        }
    }
}
