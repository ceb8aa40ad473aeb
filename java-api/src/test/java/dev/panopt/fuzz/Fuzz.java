package dev.panopt.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What every fuzz target shares: the invariant check, a scratch directory, and the container format
 * that turns one fuzzer input into several files.
 *
 * <p>The invariant ({@link #expect}): for any input a reader returns a validated object or throws one
 * of its documented exceptions; any other exception or {@link Error} propagates and is a finding. It
 * also bounds what the reader allocates on the Java heap by a fixed allowance plus a multiple of the
 * input's size, so a reader that sizes an array from a length the file claims, before checking the
 * claim against the bytes that are really there, is a finding even when the allocation would succeed.
 * Hangs are libFuzzer's {@code -timeout} (see java-api/pom.xml).
 */
public final class Fuzz {
    private Fuzz() {}

    /**
     * Panopt's INFO messages (e.g. "using model.safetensors, ignoring ...") are quietened while fuzzing:
     * logged for every input they would cost more than the reader. A strong reference keeps the
     * configured logger alive (java.util.logging holds loggers weakly).
     */
    private static final Object QUIET_LOGGER = quietLogs();

    private static Object quietLogs() {
        try { // by reflection: the tests compile inside module dev.panopt, which does not read java.logging
            Class<?> logger = Class.forName("java.util.logging.Logger");
            Class<?> level = Class.forName("java.util.logging.Level");
            Object l = logger.getMethod("getLogger", String.class).invoke(null, "dev.panopt");
            logger.getMethod("setLevel", level).invoke(l, level.getField("WARNING").get(null));
            return l;
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }

    /** Allocation allowed whatever the input (tables of a small tokenizer, JSON maps, exception messages). */
    public static final long BASE_ALLOWANCE = 64L << 20;
    /** Allocation allowed per input byte (JSON and tokenizer maps cost a few hundred bytes per input byte). */
    public static final long PER_INPUT_BYTE = 4096;

    /** {@code com.sun.management.ThreadMXBean.getCurrentThreadAllocatedBytes()} (by reflection: tests compile in the module). */
    private static final MethodHandle ALLOCATED = allocatedBytes();

    private static MethodHandle allocatedBytes() {
        try {
            Object bean = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean")
                    .invoke(null);
            Class<?> api = Class.forName("com.sun.management.ThreadMXBean");
            return MethodHandles.publicLookup().findVirtual(api, "getCurrentThreadAllocatedBytes",
                    MethodType.methodType(long.class)).bindTo(bean);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static long allocated() {
        try {
            return (long) ALLOCATED.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** A reader call. */
    @FunctionalInterface
    public interface Body {
        void run() throws Exception;
    }

    /**
     * Runs {@code body}; returns normally when it completes or throws one of {@code documented}, and
     * rethrows anything else. Then fails if the calling thread allocated more than the allowance for
     * an input of {@code inputBytes}.
     */
    @SafeVarargs
    public static void expect(long inputBytes, Body body, Class<? extends Throwable>... documented) {
        long allowed = BASE_ALLOWANCE + PER_INPUT_BYTE * inputBytes;
        long allocated = measure(body, documented);
        if (allocated > allowed) {
            // The first run of a code path also pays for loading (and, when fuzzing, instrumenting)
            // its classes on this thread: only a reader that allocates as much again is at fault.
            allocated = measure(body, documented);
            if (allocated > allowed) {
                throw new AssertionError("allocated " + allocated + " bytes for a " + inputBytes
                        + "-byte input (allowed " + allowed + "): a size taken from the input before it was checked?");
            }
        }
    }

    @SafeVarargs
    private static long measure(Body body, Class<? extends Throwable>... documented) {
        long before = allocated();
        try {
            body.run();
        } catch (Throwable t) {
            if (!isAny(t, documented)) {
                sneakyThrow(t);
            }
            if (t.getMessage() == null || t.getMessage().isBlank()) {
                throw new AssertionError("documented exception without a message", t);
            }
        }
        return allocated() - before;
    }

    private static boolean isAny(Throwable t, Class<? extends Throwable>[] types) {
        for (Class<? extends Throwable> c : types) {
            if (c.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> void sneakyThrow(Throwable t) throws T {
        throw (T) t;
    }

    // ------------------------------------------------------------------ scratch files

    private static Path scratch;

    /** An empty per-JVM scratch directory (emptied on every call). */
    public static synchronized Path emptyDir() {
        try {
            if (scratch == null) {
                scratch = Files.createTempDirectory("panopt-fuzz");
                scratch.toFile().deleteOnExit();
                Runtime.getRuntime().addShutdownHook(new Thread(Fuzz::deleteScratch));
            }
            try (Stream<Path> files = Files.list(scratch)) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            return scratch;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static synchronized void deleteScratch() {
        if (scratch != null) {
            emptyDir();
            scratch.toFile().delete();
        }
    }

    /** Writes {@code bytes} as {@code name} into a fresh scratch directory. */
    public static Path file(String name, byte[] bytes) {
        try {
            return Files.write(emptyDir().resolve(name), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------ directories from one input

    /**
     * Starts a section of a {@link #directory} input: {@code "\0@@ NAME\0"} (NUL-delimited, since
     * Jazzer's dictionaries cannot hold a newline).
     */
    public static final String SECTION = "\0@@ ";
    /** Ends a section's name. */
    public static final String NAME_END = "\0";
    private static final byte[] MARK = SECTION.getBytes(StandardCharsets.US_ASCII);
    private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,99}");

    /**
     * Splits an input into files: each {@code "\0@@ NAME\0"} starts a file called NAME holding the
     * bytes up to the next such line (or the end). Bytes before the first section are ignored, as are
     * sections whose name is not a plain file name; a later section of the same name wins.
     */
    public static Map<String, byte[]> sections(byte[] data) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        int at = indexOf(data, MARK, 0);
        while (at >= 0) {
            int nameStart = at + MARK.length;
            int nl = indexOf(data, new byte[] {0}, nameStart);
            if (nl < 0) {
                break;
            }
            int next = indexOf(data, MARK, nl + 1);
            int end = next < 0 ? data.length : next;
            String name = new String(data, nameStart, nl - nameStart, StandardCharsets.ISO_8859_1);
            if (SAFE_NAME.matcher(name).matches()) {
                out.put(name, Arrays.copyOfRange(data, nl + 1, end));
            }
            at = next;
        }
        return out;
    }

    /** Writes {@link #sections} into a fresh scratch directory and returns it. */
    public static Path directory(byte[] data) {
        Path dir = emptyDir();
        try {
            for (Map.Entry<String, byte[]> e : sections(data).entrySet()) {
                Files.write(dir.resolve(e.getKey()), e.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    /** The inverse of {@link #sections}, for writing seeds. */
    public static byte[] join(Map<String, byte[]> files) {
        var out = new java.io.ByteArrayOutputStream();
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
            out.writeBytes((SECTION + e.getKey() + NAME_END).getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(e.getValue());
        }
        return out.toByteArray();
    }

    private static int indexOf(byte[] a, byte[] pat, int from) {
        outer:
        for (int i = Math.max(0, from); i <= a.length - pat.length; i++) {
            for (int j = 0; j < pat.length; j++) {
                if (a[i + j] != pat[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
