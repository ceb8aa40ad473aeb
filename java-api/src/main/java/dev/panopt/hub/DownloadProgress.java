package dev.panopt.hub;

/**
 * Receives download progress of one file. Called on the downloading thread, first with the bytes
 * already there (0, or what a resumed {@code .incomplete} file holds), then as bytes arrive (at
 * most every mebibyte), last with {@code doneBytes == totalBytes}. Files found in the cache are not
 * reported. An implementation shared by several threads must be thread-safe.
 */
@FunctionalInterface
public interface DownloadProgress {
    /** Reports nothing. */
    DownloadProgress NONE = (repo, file, done, total) -> {};

    /**
     * Reports progress.
     *
     * @param repo       the repository and revision being downloaded from
     * @param filename   the file's path in the repository
     * @param doneBytes  bytes on disk so far, from 0 up to {@code totalBytes}
     * @param totalBytes the file's size
     */
    void update(RepoRef repo, String filename, long doneBytes, long totalBytes);
}
