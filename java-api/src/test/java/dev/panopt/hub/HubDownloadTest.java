package dev.panopt.hub;

import static dev.panopt.hub.HubFixtures.REPO;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.hub.HubException.Reason;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Downloads over real sockets: broken and stalled transfers, resumption, hostile answers, concurrent downloaders. */
class HubDownloadTest extends HubTestBase {
    static final String WEIGHTS = "model.safetensors";

    String weightsSha() {
        return HubTestServer.sha256(fixtures.weights);
    }

    Path blob() {
        return storage(REPO).resolve("blobs").resolve(weightsSha());
    }

    List<HubTestServer.Request> cdnGets() {
        return server.requests("GET", "/cdn/" + weightsSha());
    }

    /**
     * Where a resumed GET starts: {@code Range: bytes=N-} with N at most what the server sent before
     * breaking the connection (the client may not have received the last bytes in flight).
     */
    static long resumedFrom(HubTestServer.Request r, long sent) {
        assertTrue(r.range() != null && r.range().matches("bytes=[1-9][0-9]*-"), String.valueOf(r.range()));
        long n = Long.parseLong(r.range().substring("bytes=".length(), r.range().length() - 1));
        assertTrue(n <= sent, n + " > " + sent);
        return n;
    }

    @Test
    void aTransferThatBreaksIsResumedWithRange() throws Exception {
        server.cuts.set(1);
        server.cutAfter = 100_000;
        List<long[]> progress = new CopyOnWriteArrayList<>();
        HubClient hub = client(b -> b.progress((repo, file, done, total) -> {
            if (file.equals(WEIGHTS)) {
                progress.add(new long[] {done, total});
            }
        }));
        Path p = hub.download(RepoRef.of(REPO), WEIGHTS);
        assertArrayEquals(fixtures.weights, Files.readAllBytes(p));
        List<HubTestServer.Request> gets = cdnGets();
        assertEquals(2, gets.size(), gets.toString());
        assertEquals(null, gets.get(0).range());
        long resumed = resumedFrom(gets.get(1), 100_000);
        long total = fixtures.weights.length;
        assertEquals(0, progress.get(0)[0]);
        assertTrue(progress.stream().anyMatch(d -> d[0] == resumed), "the resumed transfer starts at what is on disk");
        assertEquals(total, progress.get(progress.size() - 1)[0]);
        for (int i = 1; i < progress.size(); i++) {
            assertTrue(progress.get(i)[0] >= progress.get(i - 1)[0]);
            assertEquals(total, progress.get(i)[1]);
        }
        assertFalse(Files.exists(HubCache.incomplete(blob())));
    }

    @Test
    void aFailedDownloadLeavesAnIncompleteFileThatTheNextCallResumes() throws Exception {
        server.cuts.set(1);
        server.cutAfter = 50_000;
        HubClient once = client(b -> b.maxRetries(0));
        IOException e = assertThrows(IOException.class, () -> once.download(RepoRef.of(REPO), WEIGHTS));
        assertFalse(e instanceof HubException, e.toString());
        assertTrue(e.getMessage().contains(".incomplete"), e.getMessage());
        Path incomplete = HubCache.incomplete(blob());
        long kept = Files.size(incomplete);
        assertTrue(kept > 0 && kept <= 50_000, "kept " + kept);
        assertFalse(Files.exists(blob()));

        List<Long> firstReports = new ArrayList<>();
        HubClient again = client(b -> b.progress((repo, file, done, total) -> firstReports.add(done)));
        Path p = again.download(RepoRef.of(REPO), WEIGHTS);
        assertArrayEquals(fixtures.weights, Files.readAllBytes(p));
        assertEquals("bytes=" + kept + "-", cdnGets().get(cdnGets().size() - 1).range());
        assertEquals(kept, firstReports.get(0));
        assertFalse(Files.exists(incomplete));
    }

    @Test
    void closingTheClientAbortsADownloadThatALaterOneResumes() throws Exception {
        CountDownLatch inBody = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        server.midBody = () -> {
            inBody.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        HubClient hub = client(b -> b.downloadTimeout(Duration.ofMinutes(2)));
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<Path> download = pool.submit(() -> hub.download(RepoRef.of(REPO), WEIGHTS));
            assertTrue(inBody.await(30, TimeUnit.SECONDS));
            hub.close();
            ExecutionException e = assertThrows(ExecutionException.class, () -> download.get(30, TimeUnit.SECONDS));
            assertInstanceOf(IOException.class, e.getCause(), String.valueOf(e.getCause()));
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
        assertThrows(IllegalStateException.class, () -> hub.download(RepoRef.of(REPO), WEIGHTS));
        server.midBody = () -> {};
        Path incomplete = HubCache.incomplete(blob());
        long kept = Files.exists(incomplete) ? Files.size(incomplete) : 0;
        assertArrayEquals(fixtures.weights, Files.readAllBytes(client().download(RepoRef.of(REPO), WEIGHTS)));
        assertEquals(kept > 0 ? "bytes=" + kept + "-" : null, cdnGets().get(cdnGets().size() - 1).range());
    }

    @Test
    void aStalledTransferTimesOutAndIsResumed() throws Exception {
        server.cuts.set(1);
        server.cutAfter = 10_000;
        server.stallMillis = 3_000;
        long t0 = System.nanoTime();
        Path p = client(b -> b.downloadTimeout(Duration.ofMillis(300))).download(RepoRef.of(REPO), WEIGHTS);
        assertArrayEquals(fixtures.weights, Files.readAllBytes(p));
        assertTrue(System.nanoTime() - t0 < 2_500_000_000L, "the stall was cut by the 300 ms timeout");
        resumedFrom(cdnGets().get(1), 10_000);
    }

    @Test
    void aServerThatIgnoresRangeStartsTheFileOver() throws Exception {
        server.cuts.set(1);
        server.cutAfter = 30_000;
        assertThrows(IOException.class, () -> client(b -> b.maxRetries(0)).download(RepoRef.of(REPO), WEIGHTS));
        server.ignoreRange = true;
        Path p = client().download(RepoRef.of(REPO), WEIGHTS);
        assertArrayEquals(fixtures.weights, Files.readAllBytes(p));
        resumedFrom(cdnGets().get(1), 30_000);
    }

    @Test
    void contentThatDoesNotMatchItsEtagIsNeverCached() throws Exception {
        server.corrupt = true;
        HubException e = assertThrows(HubException.class, () -> client().download(RepoRef.of(REPO), WEIGHTS));
        assertEquals(Reason.BAD_RESPONSE, e.reason());
        assertTrue(e.getMessage().contains("do not match the ETag"), e.getMessage());
        assertFalse(Files.exists(blob()));
        assertFalse(Files.exists(HubCache.incomplete(blob())));
        assertFalse(Files.exists(storage(REPO).resolve("snapshots").resolve(HubFixtures.COMMIT_MAIN).resolve(WEIGHTS)));
        // a regular (git) file is checked against its blob id the same way
        server.rewrite = (f, h) -> {
            if (h.containsKey("ETag") && f.equals("vocab.json")) {
                h.set("ETag", "\"" + HubTestServer.gitBlobId("other".getBytes(StandardCharsets.UTF_8)) + "\"");
            }
        };
        assertEquals(Reason.BAD_RESPONSE, assertThrows(HubException.class,
                () -> client().download(RepoRef.of(REPO), "vocab.json")).reason());
    }

    @Test
    void hostileAnswersAreRejectedBeforeTheyNameOrSizeAnything() throws Exception {
        record Case(String name, String header, String value, String message) {}
        List<Case> cases = List.of(
                new Case("huge size", "X-Linked-Size", "1000000000000000", "outside 0.."),
                new Case("negative size", "X-Linked-Size", "-1", "outside 0.."),
                new Case("path in the ETag", "X-Linked-Etag", "\"../../../../escaped\"", "not a plain name"),
                new Case("path in the commit", "X-Repo-Commit", "../../../../escaped", "not a commit hash"));
        for (Case c : cases) {
            server.rewrite = (f, h) -> h.set(c.header(), c.value());
            HubException e = assertThrows(HubException.class, () -> client().download(RepoRef.of(REPO), WEIGHTS),
                    c.name());
            // the hub's answer is unusable, so the cache is asked instead (as huggingface_hub does), which has nothing
            assertEquals(Reason.NOT_CACHED, e.reason(), c.name());
            HubException cause = assertInstanceOf(HubException.class, e.getCause(), c.name());
            assertEquals(Reason.BAD_RESPONSE, cause.reason(), c.name());
            assertTrue(cause.getMessage().contains(c.message()), cause.getMessage());
        }
        server.rewrite = (f, h) -> {};
        HubException e = assertThrows(HubException.class,
                () -> client(b -> b.maxFileSize(1000)).download(RepoRef.of(REPO), WEIGHTS));
        assertTrue(e.getCause().getMessage().contains("HubOptions.maxFileSize"), e.getCause().getMessage());

        server.commit("panopt-test/loop", HubFixtures.COMMIT_MAIN, "main", Map.of()).redirectLoop = true;
        e = assertThrows(HubException.class, () -> client().download(RepoRef.of("panopt-test/loop"), "config.json"));
        assertTrue(e.getCause().getMessage().contains("more than " + HubHttp.MAX_REDIRECTS + " redirects"),
                e.getCause().getMessage());
        assertEquals(HubHttp.MAX_REDIRECTS + 1, server.requests("HEAD", "/panopt-test/loop/").size());

        server.commit("panopt-test/traversal", HubFixtures.COMMIT_MAIN, "main", Map.of("config.json", fixtures.configV1,
                "model.safetensors.index.json", "{\"weight_map\": {\"a\": \"../../../../escaped.safetensors\"}}"
                        .getBytes(StandardCharsets.UTF_8)));
        e = assertThrows(HubException.class, () -> client().downloadModel(RepoRef.of("panopt-test/traversal")));
        assertEquals(Reason.BAD_RESPONSE, e.reason());
        assertTrue(e.getMessage().contains("invalid file name '../../../../escaped.safetensors'"), e.getMessage());

        try (Stream<Path> all = Files.walk(tmp)) {
            assertTrue(all.noneMatch(p -> p.getFileName().toString().startsWith("escaped")));
        }
        try (Stream<Path> all = Files.list(tmp)) {
            assertEquals(List.of(cache), all.toList(), "nothing is written beside the cache");
        }
    }

    /**
     * Holds every CDN body at its middle until the second downloader either waits for the lock or,
     * were there no lock, asks the CDN too: so a missing lock is always seen.
     */
    private void holdBodiesUntil(java.util.function.BooleanSupplier secondWaits) {
        server.midBody = () -> {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (!secondWaits.getAsBoolean() && cdnGets().size() < 2 && System.nanoTime() < deadline) {
                sleep(10);
            }
        };
    }

    @Test
    void twoThreadsDownloadingTheSameFileShareOneTransfer() throws Exception {
        List<Thread> threads = new CopyOnWriteArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r);
            threads.add(t);
            return t;
        });
        // the second thread waits for the lock: parked inside CacheLock.acquire
        holdBodiesUntil(() -> threads.stream().anyMatch(t -> t.getState() == Thread.State.WAITING
                && Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getClassName().equals(CacheLock.class.getName()))));
        try {
            List<Future<Path>> results = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                HubClient c = client(b -> b.downloadTimeout(Duration.ofMinutes(2)));
                results.add(pool.submit(() -> c.download(RepoRef.of(REPO), WEIGHTS)));
            }
            Path a = results.get(0).get();
            assertEquals(a, results.get(1).get());
            assertArrayEquals(fixtures.weights, Files.readAllBytes(a));
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, cdnGets().size(), "one transfer: " + server.requests);
    }

    @Test
    void twoProcessesDownloadingTheSameFileShareOneTransfer() throws Exception {
        Path childDir = Files.createDirectories(tmp.resolve("child"));
        Path childLog = childDir.resolve("child.err");
        AtomicReference<Process> child = new AtomicReference<>();
        // This process downloads first; in the middle of its transfer the other process starts and must wait.
        holdBodiesUntil(() -> {
            try {
                if (child.get() == null) {
                    child.set(HubProcesses.start(HubProcesses.java("download", server.endpoint(), cache.toString(),
                            REPO, WEIGHTS), childDir));
                }
                return !child.get().isAlive() || Files.readString(childLog).contains("waiting for another process");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        Path mine = client(b -> b.downloadTimeout(Duration.ofMinutes(2))).download(RepoRef.of(REPO), WEIGHTS);
        HubProcesses.Result r = HubProcesses.await(child.get(), childDir);
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.stderr().contains("waiting for another process"), r.output());
        assertEquals(mine.toString(), r.stdout().strip());
        assertArrayEquals(fixtures.weights, Files.readAllBytes(mine));
        assertEquals(1, cdnGets().size(), "one transfer: " + server.requests);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
