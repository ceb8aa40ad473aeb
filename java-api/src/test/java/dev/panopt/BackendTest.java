package dev.panopt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Backends: ownership, options, and one shared worker pool however many sessions run. */
class BackendTest {
    static final int[][] IDS = OptForCausalLMTest.IDS;
    static final int[][] MASK = OptForCausalLMTest.MASK;

    /** Threads of this process named as the CPU backend names its workers. */
    static int workerThreads() throws IOException {
        int n = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path t : tasks) {
                try {
                    n += Files.readString(t.resolve("comm")).startsWith("panopt-cpu-") ? 1 : 0;
                } catch (IOException gone) {
                    // ended while we looked
                }
            }
        }
        return n;
    }

    @Test
    void optionsAreResolvedAndChecked() {
        try (Backend b = Backend.create(BackendOptions.builder().threads(3).build())) {
            assertEquals(3, b.threads());
            assertEquals(Panopt.bestIsa(), b.isa());
        }
        assertThrows(IllegalArgumentException.class, () -> BackendOptions.builder().threads(-1).build());
        assertThrows(NullPointerException.class, () -> BackendOptions.builder().isa(null));
        assertSame(Backend.shared(), Backend.shared());
        Backend.shared().close(); // a no-op: the shared backend lives as long as the JVM
        assertTrue(Backend.shared().threads() >= 1);
    }

    @Test
    void closingWithOpenModelsThrowsAndAClosedBackendTakesNoModels() throws Exception {
        Backend b = Backend.create(BackendOptions.builder().threads(2).build());
        OptForCausalLM m = OptForCausalLM.fromPretrained(OptForCausalLMTest.PRELN, LoadOptions.builder().backend(b).build());
        IllegalStateException e = assertThrows(IllegalStateException.class, b::close);
        assertTrue(e.getMessage().contains("1 model"), e.getMessage());
        m.close();
        b.close();
        b.close(); // idempotent
        assertThrows(IllegalStateException.class,
                () -> OptForCausalLM.fromPretrained(OptForCausalLMTest.PRELN, LoadOptions.builder().backend(b).build()));
    }

    @Test
    void aFailedLoadDoesNotKeepTheBackendBusy(@org.junit.jupiter.api.io.TempDir Path empty) throws Exception {
        try (Backend b = Backend.create(BackendOptions.builder().threads(2).build())) {
            assertThrows(IOException.class,
                    () -> OptForCausalLM.fromPretrained(empty, LoadOptions.builder().backend(b).build()));
        } // close() would throw if the failed load had registered a model
    }

    @Test
    void manySessionsShareOnePoolAndAgreeWithOne() throws Exception {
        int before = workerThreads();
        try (Backend b = Backend.create(BackendOptions.builder().threads(3).build());
             OptForCausalLM m = OptForCausalLM.fromPretrained(OptForCausalLMTest.PRELN,
                     LoadOptions.builder().backend(b).build())) {
            float[] reference;
            try (CausalLMOutput out = m.forward(IDS, MASK)) {
                reference = out.logits().toFloatArray();
            }
            int sessions = 8;
            List<Session> open = new ArrayList<>();
            for (int i = 0; i < sessions; i++) {
                open.add(m.newSession());
            }
            ExecutorService callers = Executors.newFixedThreadPool(sessions);
            CountDownLatch start = new CountDownLatch(1);
            try {
                List<Future<float[]>> fs = new ArrayList<>();
                for (Session s : open) {
                    fs.add(callers.submit(() -> {
                        start.await();
                        float[] last = null;
                        for (int r = 0; r < 20; r++) {
                            try (CausalLMOutput out = m.forward(ForwardRequest.inputIds(IDS).attentionMask(MASK).session(s).build())) {
                                last = out.logits().toFloatArray();
                            }
                        }
                        return last;
                    }));
                }
                start.countDown();
                int during = workerThreads();
                for (Future<float[]> f : fs) {
                    assertArrayEquals(reference, f.get()); // same pool, same chunking: bit for bit
                }
                // 2 workers (+ the calling thread) for 8 sessions, not 8 pools
                assertEquals(2, during - before, "worker threads alive with " + sessions + " sessions");
            } finally {
                callers.shutdown();
                open.forEach(Session::close);
            }
        }
        assertEquals(before, workerThreads(), "workers are joined when the backend closes");
    }
}
