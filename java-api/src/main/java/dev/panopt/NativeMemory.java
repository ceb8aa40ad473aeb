package dev.panopt;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The safety net under explicit {@code close()}: outputs, sessions, models and backends register
 * here with a {@link Cleaner}, which frees their native memory once they become unreachable without
 * having been closed. Closing stays the fast path: it runs the same action at once and unregisters it.
 *
 * <p>A Cleaner only runs after a garbage collection, and the JVM does not see native memory, so a
 * program that drops outputs without closing them could fill the machine before the heap ever asks
 * for a collection. As {@code java.nio}'s direct buffers do, Panopt therefore counts the native
 * bytes held by objects not yet closed; while that count is above {@code -Dpanopt.reclaimThreshold}
 * (bytes, with an optional k/m/g suffix; default 256m), every threshold's worth of new allocation
 * calls {@link System#gc()} so that the unreachable ones are reclaimed. Unclosed, unreachable memory
 * thus stays around one to two thresholds, and the collections cost at most one per threshold
 * allocated. Programs that close what they use never reach it.
 *
 * <p>The counters are for tests, soak runs and diagnostics. Thread-safe.
 */
final class NativeMemory {
    private NativeMemory() {}

    private static final System.Logger LOG = System.getLogger(NativeMemory.class.getName());

    /** The one cleaner thread of Panopt (a daemon). */
    static final Cleaner CLEANER = Cleaner.create(r -> {
        Thread t = new Thread(r, "panopt-cleaner");
        t.setDaemon(true);
        return t;
    });

    private static final AtomicLong UNCLOSED_BYTES = new AtomicLong();
    private static final AtomicLong SINCE_REQUEST = new AtomicLong();
    private static final AtomicLong LIVE_OUTPUTS = new AtomicLong();
    private static final AtomicLong LIVE_SESSIONS = new AtomicLong();
    private static final AtomicLong LIVE_MODELS = new AtomicLong();
    private static final AtomicLong LIVE_BACKENDS = new AtomicLong();
    private static final AtomicLong RECLAIMED = new AtomicLong();
    private static final AtomicLong GC_REQUESTS = new AtomicLong();
    private static final AtomicBoolean WARNED = new AtomicBoolean();
    private static volatile long threshold = initialThreshold();

    /** What a registered object is, for the counters. */
    enum Kind {
        OUTPUT(LIVE_OUTPUTS), SESSION(LIVE_SESSIONS), MODEL(LIVE_MODELS), BACKEND(LIVE_BACKENDS);

        private final AtomicLong live;

        Kind(AtomicLong live) {
            this.live = live;
        }
    }

    /** Counts {@code bytes} of native memory about to be allocated for an object of {@code kind}. */
    static void reserve(Kind kind, long bytes) {
        kind.live.incrementAndGet();
        long now = UNCLOSED_BYTES.addAndGet(bytes);
        long since = SINCE_REQUEST.addAndGet(bytes);
        long t = threshold;
        if (now > t && since > t) {
            requestCollection(now);
        }
    }

    /**
     * The object was freed: by {@code close()} ({@code byCleaner} false), or by the Cleaner after it
     * became unreachable unclosed.
     */
    static void released(Kind kind, long bytes, boolean byCleaner) {
        kind.live.decrementAndGet();
        UNCLOSED_BYTES.addAndGet(-bytes);
        if (byCleaner) {
            RECLAIMED.incrementAndGet();
            if (WARNED.compareAndSet(false, true)) {
                LOG.log(System.Logger.Level.WARNING, "a Panopt {0} was reclaimed by the garbage collector without"
                        + " having been closed; close outputs, sessions and models (try-with-resources) to free"
                        + " native memory promptly (logged once)", kind.name().toLowerCase(java.util.Locale.ROOT));
            }
        }
    }

    private static synchronized void requestCollection(long now) {
        if (SINCE_REQUEST.get() <= threshold) {
            return; // another thread just asked
        }
        // The next request after another threshold's worth of allocation: bounded work, even when
        // the memory is held by objects still in use.
        SINCE_REQUEST.set(0);
        GC_REQUESTS.incrementAndGet();
        LOG.log(System.Logger.Level.DEBUG, "{0} bytes of native memory held by unclosed Panopt objects: requesting"
                + " a collection", now);
        System.gc();
    }

    /** Native bytes held by outputs, sessions and models not yet closed or reclaimed. */
    static long unclosedBytes() {
        return UNCLOSED_BYTES.get();
    }

    static long liveOutputs() {
        return LIVE_OUTPUTS.get();
    }

    static long liveSessions() {
        return LIVE_SESSIONS.get();
    }

    static long liveModels() {
        return LIVE_MODELS.get();
    }

    /** Backends made by {@link Backend#create} and not yet freed (the shared one is not counted). */
    static long liveBackends() {
        return LIVE_BACKENDS.get();
    }

    /** Objects freed by the Cleaner rather than by {@code close()}. */
    static long reclaimed() {
        return RECLAIMED.get();
    }

    /** Times {@link System#gc()} was requested. */
    static long gcRequests() {
        return GC_REQUESTS.get();
    }

    /** Test hook: the threshold in bytes. */
    static synchronized void threshold(long bytes) {
        threshold = bytes;
        SINCE_REQUEST.set(0);
    }

    static long threshold() {
        return threshold;
    }

    private static long initialThreshold() {
        try {
            return parseBytes(System.getProperty("panopt.reclaimThreshold"), 256L << 20);
        } catch (IllegalArgumentException e) {
            LOG.log(System.Logger.Level.WARNING, e.getMessage() + "; using 256m");
            return 256L << 20;
        }
    }

    static long parseBytes(String s, long dflt) {
        if (s == null || s.isBlank()) {
            return dflt;
        }
        String t = s.strip().toLowerCase(java.util.Locale.ROOT);
        long unit = switch (t.charAt(t.length() - 1)) {
            case 'k' -> 1L << 10;
            case 'm' -> 1L << 20;
            case 'g' -> 1L << 30;
            default -> 1;
        };
        try {
            long v = Long.parseLong(unit == 1 ? t : t.substring(0, t.length() - 1));
            if (v <= 0) {
                throw new NumberFormatException();
            }
            return Math.multiplyExact(v, unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("panopt.reclaimThreshold must be a positive byte count such as 256m,"
                    + " got \"" + s + "\"");
        }
    }
}
