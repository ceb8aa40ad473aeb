package dev.panopt.cli;

import dev.panopt.hub.DownloadProgress;
import dev.panopt.hub.RepoRef;
import java.io.PrintStream;
import java.util.HashMap;
import java.util.Map;

/** Download progress on stderr: a {@link ProgressBar} per file of at least 10 MB (smaller files download silently). */
final class DownloadProgressBars implements DownloadProgress {
    /** Files from this size (10 MB) get progress. */
    static final long THRESHOLD = 10_000_000L;

    private final PrintStream out;
    private final boolean terminal;
    private final Map<String, ProgressBar> bars = new HashMap<>();

    DownloadProgressBars(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    @Override
    public synchronized void update(RepoRef repo, String filename, long doneBytes, long totalBytes) {
        if (totalBytes < THRESHOLD) {
            return;
        }
        bars.computeIfAbsent(repo.repoId() + "/" + filename, k -> new ProgressBar("downloading " + k, out, terminal))
                .update(doneBytes, totalBytes);
    }
}
