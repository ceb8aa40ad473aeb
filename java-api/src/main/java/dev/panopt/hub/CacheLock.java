package dev.panopt.hub;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The lock of one blob's download: {@code .locks/models--org--name/<etag>.lock}, as huggingface_hub's.
 * An operating-system lock on the file excludes other processes; since the JVM holds such locks per
 * process, threads of this JVM first take an in-process lock of the same path.
 *
 * <p>The JVM locks with {@code fcntl(2)}; Python's {@code filelock} locks with {@code flock(2)}, which
 * Linux keeps apart, so a Python process is not excluded. That costs at most a second download: each
 * writer renames a complete, verified file into place.
 */
final class CacheLock implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(CacheLock.class.getName());
    /** One in-process lock per lock file; a few dozen bytes per blob downloaded in this JVM's life. */
    private static final ConcurrentMap<Path, ReentrantLock> IN_PROCESS = new ConcurrentHashMap<>();

    private final ReentrantLock local;
    private final FileChannel channel;
    private final FileLock lock;

    private CacheLock(ReentrantLock local, FileChannel channel, FileLock lock) {
        this.local = local;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock, waiting as long as another thread or process holds it.
     *
     * @throws IOException if the lock file cannot be created or locked, or the thread is interrupted
     */
    static CacheLock acquire(Path lockFile, String what) throws IOException {
        // The real path: two names of one file (a symlinked cache) must share the in-process lock, since
        // the JVM refuses a second lock of a file it already locks.
        Files.createDirectories(lockFile.getParent());
        Path key = lockFile.getParent().toRealPath().resolve(lockFile.getFileName());
        ReentrantLock local = IN_PROCESS.computeIfAbsent(key, k -> new ReentrantLock());
        if (!local.tryLock()) {
            LOG.log(System.Logger.Level.INFO, "waiting for another thread downloading {0}", what);
            try {
                local.lockInterruptibly();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while waiting for the lock " + lockFile);
            }
        }
        FileChannel ch = null;
        try {
            ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock fl = ch.tryLock();
            if (fl == null) {
                LOG.log(System.Logger.Level.INFO, "waiting for another process downloading {0} (lock {1})", what,
                        lockFile);
                fl = ch.lock();
            }
            return new CacheLock(local, ch, fl);
        } catch (IOException | RuntimeException | Error e) {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            local.unlock();
            throw e;
        }
    }

    /** Releases the lock (the lock file stays, as huggingface_hub leaves it). */
    @Override
    public void close() throws IOException {
        try {
            if (lock.isValid()) {
                lock.release();
            }
        } finally {
            try {
                channel.close();
            } finally {
                local.unlock();
            }
        }
    }
}
