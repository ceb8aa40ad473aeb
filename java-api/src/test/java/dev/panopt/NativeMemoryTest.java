package dev.panopt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * The safety net of {@link NativeMemory}: outputs, sessions, models and backends dropped without
 * {@code close()} are freed once unreachable, and native memory stays flat however many are dropped.
 *
 * <p>What is asserted, for thousands of forwards whose outputs are never closed: (1) the native bytes
 * held by unclosed outputs (Panopt's own count of every output allocation and free) never exceed
 * three times the collection threshold, where without the net they would reach the sum of all
 * outputs; (2) the process's resident set (VmRSS of /proc/self/status) grows by less than a tenth of
 * that sum; (3) once collected, every one of those outputs has been freed by the cleaner.
 */
class NativeMemoryTest {
    static final Path FIXTURES = Path.of(System.getProperty("panopt.fixtures", "../conformance/fixtures"));
    static final Path TINY = FIXTURES.resolve("cases/preln-tiny");

    static long status(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) {
                    String v = line.substring(field.length() + 1).strip();
                    return v.endsWith("kB") ? Long.parseLong(v.substring(0, v.length() - 2).strip()) << 10
                            : Long.parseLong(v);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("no " + field + " in /proc/self/status");
    }

    static long rss() {
        return status("VmRSS");
    }

    private static final java.lang.foreign.StructLayout MALLINFO2 = java.lang.foreign.MemoryLayout.structLayout(
            java.lang.foreign.ValueLayout.JAVA_LONG.withName("arena"),
            java.lang.foreign.ValueLayout.JAVA_LONG.withName("ordblks"),
            java.lang.foreign.ValueLayout.JAVA_LONG.withName("smblks"),
            java.lang.foreign.ValueLayout.JAVA_LONG.withName("hblks"),
            java.lang.foreign.ValueLayout.JAVA_LONG.withName("hblkhd"),
            java.lang.foreign.ValueLayout.JAVA_LONG.withName("usmblks"),
            java.lang.foreign.ValueLayout.JAVA_LONG.withName("fsmblks"),
            java.lang.foreign.ValueLayout.JAVA_LONG.withName("uordblks"),
            java.lang.foreign.ValueLayout.JAVA_LONG.withName("fordblks"),
            java.lang.foreign.ValueLayout.JAVA_LONG.withName("keepcost"));
    private static final java.lang.invoke.MethodHandle MALLINFO = java.lang.foreign.Linker.nativeLinker()
            .defaultLookup().find("mallinfo2").map(a -> java.lang.foreign.Linker.nativeLinker().downcallHandle(a,
                    java.lang.foreign.FunctionDescriptor.of(MALLINFO2))).orElse(null);

    /**
     * Bytes the C heap (glibc malloc, all arenas, mmap'd chunks included) has handed out and not got
     * back: libpanopt's allocations, the Java arenas of outputs, and the JVM's own. -1 without glibc.
     */
    static long mallocInUse() {
        if (MALLINFO == null) {
            return -1;
        }
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment m = (java.lang.foreign.MemorySegment) MALLINFO.invokeExact(
                    (java.lang.foreign.SegmentAllocator) a);
            return m.get(java.lang.foreign.ValueLayout.JAVA_LONG, MALLINFO2.byteOffset(
                    java.lang.foreign.MemoryLayout.PathElement.groupElement("uordblks")))
                    + m.get(java.lang.foreign.ValueLayout.JAVA_LONG, MALLINFO2.byteOffset(
                    java.lang.foreign.MemoryLayout.PathElement.groupElement("hblkhd")));
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Collects until {@code done} holds (the cleaner runs after a collection), for at most 20 s. */
    static boolean collectUntil(BooleanSupplier done) throws InterruptedException {
        for (int i = 0; i < 200 && !done.getAsBoolean(); i++) {
            System.gc();
            Thread.sleep(100);
        }
        return done.getAsBoolean();
    }

    static long mappingsOf(Path file) throws IOException {
        String name = file.toAbsolutePath().normalize().toString();
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.endsWith(name)).count();
    }

    static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }

    /** One thread: these tests count memory, and a parallel region on a busy machine costs time slices. */
    static final Backend ONE_THREAD = Backend.create(BackendOptions.builder().threads(1).build());

    static OptForCausalLM tiny() throws IOException {
        return OptForCausalLM.fromPretrained(TINY, LoadOptions.builder().backend(ONE_THREAD).build());
    }

    static int[][] ids(int len) {
        int[][] ids = new int[1][len];
        for (int i = 0; i < len; i++) {
            ids[0][i] = 3 + (i * 37) % 900;
        }
        return ids;
    }

    @Test
    void thousandsOfUnclosedForwardsKeepNativeMemoryFlat() throws Exception {
        long savedThreshold = NativeMemory.threshold();
        long threshold = 32L << 20;
        NativeMemory.threshold(threshold);
        try (OptForCausalLM lm = tiny()) {
            int[][] ids = ids(64);
            ForwardOptions all = ForwardOptions.builder().outputHiddenStates(true).outputAttentions(true).build();
            long base = NativeMemory.liveOutputs();
            for (int i = 0; i < 300; i++) {
                lm.forward(ForwardRequest.inputIds(ids).options(all).build()); // warm-up, unclosed too
            }
            long liveBefore = NativeMemory.liveOutputs() - base;
            assertTrue(collectUntil(() -> NativeMemory.liveOutputs() <= base), "warm-up outputs not reclaimed");
            long bytes0 = NativeMemory.unclosedBytes();
            long rss0 = rss();
            long reclaimed0 = NativeMemory.reclaimed();
            long gc0 = NativeMemory.gcRequests();
            int n = 3000;
            long perForward = 0;
            long maxUnclosed = 0;
            long maxRss = rss0;
            for (int i = 0; i < n; i++) {
                CausalLMOutput out = lm.forward(ForwardRequest.inputIds(ids).options(all).build()); // never closed
                if (i == 0) {
                    perForward = NativeMemory.unclosedBytes() - bytes0;
                    assertTrue(perForward > 400_000, "one output holds " + perForward + " bytes");
                }
                maxUnclosed = Math.max(maxUnclosed, NativeMemory.unclosedBytes() - bytes0);
                if (i % 250 == 0) {
                    maxRss = Math.max(maxRss, rss());
                }
                out.logits(); // used, then dropped
            }
            long total = n * perForward;
            assertTrue(collectUntil(() -> NativeMemory.liveOutputs() <= base), "outputs left: "
                    + (NativeMemory.liveOutputs() - base));
            long reclaimed = NativeMemory.reclaimed() - reclaimed0;
            System.out.printf(Locale.ROOT, "[leak] %d unclosed forwards of %s each (%s in all): unclosed native bytes"
                    + " peaked at %s (threshold %s), RSS %s -> peak %s (+%s), %d collections requested,"
                    + " %d outputs reclaimed by the cleaner (%d warm-up outputs before)%n", n, mb(perForward),
                    mb(total), mb(maxUnclosed), mb(threshold), mb(rss0), mb(maxRss), mb(maxRss - rss0),
                    NativeMemory.gcRequests() - gc0, reclaimed, liveBefore);
            assertTrue(maxUnclosed <= 3 * threshold, "unclosed outputs held " + mb(maxUnclosed));
            assertTrue(maxRss - rss0 < total / 10, "RSS grew by " + mb(maxRss - rss0) + " of " + mb(total));
            assertTrue(reclaimed >= n, reclaimed + " of " + n + " outputs reclaimed");
        } finally {
            NativeMemory.threshold(savedThreshold);
        }
    }

    @Test
    void closingIsTheFastPath() throws Exception {
        try (OptForCausalLM lm = tiny()) {
            lm.forward(ids(64)).close(); // makes the model's own session
            long gc0 = NativeMemory.gcRequests();
            long unclosed0 = NativeMemory.unclosedBytes();
            for (int i = 0; i < 2000; i++) {
                try (CausalLMOutput out = lm.forward(ids(64))) {
                    out.logits().getFlat(0);
                }
            }
            assertEquals(unclosed0, NativeMemory.unclosedBytes());
            assertEquals(gc0, NativeMemory.gcRequests(), "closed outputs must never make Panopt ask for a collection");
        }
    }

    @Test
    void anOutputInUseKeepsItsUnreachableSession() throws Exception {
        try (OptForCausalLM lm = tiny()) {
            CausalLMOutput out = lm.forward(ForwardRequest.inputIds(ids(8)).session(lm.newSession()).build());
            float[] before = out.logits().toFloatArray();
            for (int i = 0; i < 5; i++) {
                System.gc();
                Thread.sleep(50);
            }
            assertTrue(out.logits().isAlive());
            assertTrue(Arrays.equals(before, out.logits().toFloatArray()));
            out.close();
            assertFalse(out.logits().isAlive());
        }
    }

    @Test
    void unreachableSessionsModelsAndBackendsAreFreed() throws Exception {
        long sessions0 = NativeMemory.liveSessions();
        long models0 = NativeMemory.liveModels();
        long backends0 = NativeMemory.liveBackends();
        long threads0 = status("Threads");
        Path weights = TINY.resolve("model.safetensors");
        long maps0 = mappingsOf(weights);
        ForwardOptions cached = ForwardOptions.builder().useCache(true).build();
        for (int i = 0; i < 40; i++) {
            Backend backend = Backend.create(BackendOptions.builder().threads(2).build());
            OptForCausalLM lm = OptForCausalLM.fromPretrained(TINY, LoadOptions.builder().backend(backend).build());
            Session s = lm.newSession();
            lm.forward(ForwardRequest.inputIds(ids(4)).session(s).options(cached).build()).logits().getFlat(0);
            lm.newSession();
            lm.forward(ids(4)); // the model's own session
        } // nothing closed
        long sessionsPeak = NativeMemory.liveSessions() - sessions0;
        long modelsPeak = NativeMemory.liveModels() - models0;
        long threadsPeak = status("Threads") - threads0;
        long mapsPeak = mappingsOf(weights) - maps0;
        assertTrue(collectUntil(() -> NativeMemory.liveModels() == models0 && NativeMemory.liveSessions() == sessions0
                && NativeMemory.liveBackends() == backends0), "left: " + (NativeMemory.liveModels() - models0)
                + " models, " + (NativeMemory.liveSessions() - sessions0) + " sessions, "
                + (NativeMemory.liveBackends() - backends0) + " backends");
        System.out.printf(Locale.ROOT, "[leak] 40 unclosed models (each with its own backend and 3 sessions): peak %d"
                + " models, %d sessions, %d extra threads, %d weight mappings; after collection %d, %d, %d, %d%n",
                modelsPeak, sessionsPeak, threadsPeak, mapsPeak, NativeMemory.liveModels() - models0,
                NativeMemory.liveSessions() - sessions0, status("Threads") - threads0, mappingsOf(weights) - maps0);
        assertEquals(maps0, mappingsOf(weights), "weight files still mapped");
        assertTrue(status("Threads") - threads0 < Math.max(4, threadsPeak / 4), "worker threads not freed: "
                + (status("Threads") - threads0) + " of " + threadsPeak);
    }
}
