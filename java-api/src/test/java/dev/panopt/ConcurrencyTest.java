package dev.panopt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.tokenizer.OptTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Concurrency stress, lifecycle under concurrency, and cancellation. The stress run lasts about
 * {@value #SHORT_SECONDS} s; {@code -Dpanopt.stress.seconds=N} (README, Robustness) runs it for N s.
 */
class ConcurrencyTest {
    static final int SHORT_SECONDS = 3;
    static final Path FIXTURES = GenerationTest.FIXTURES;
    static final Path TINY = FIXTURES.resolve("cases/preln-tiny");
    static final Path BIG = FIXTURES.resolve("cases/opt125m-shape-f16");
    static final ForwardOptions CACHED = ForwardOptions.builder().useCache(true).build();
    static final int[][][] PROMPTS = {{{2, 5, 6, 7}}, {{2, 9, 4}}, {{2, 11, 12, 13, 14, 3}}};

    /** Cached forward of a prompt then one token: both logits, flattened. */
    static float[][] forwardTwice(OptForCausalLM m, Session s, int[][] prompt) {
        s.reset();
        float[][] r = new float[2][];
        try (CausalLMOutput o = m.forward(ForwardRequest.inputIds(prompt).session(s).options(CACHED).build())) {
            r[0] = o.logits().toFloatArray();
        }
        int[][] mask = {new int[prompt[0].length + 1]};
        java.util.Arrays.fill(mask[0], 1);
        try (CausalLMOutput o = m.forward(ForwardRequest.inputIds(new int[][] {{8}}).attentionMask(mask).session(s)
                .options(CACHED).build())) {
            r[1] = o.logits().toFloatArray();
        }
        return r;
    }

    @Test
    void threadsSharingOneModelGetTheSingleThreadedResults() throws Exception {
        long asked = Long.getLong("panopt.stress.seconds", 0);
        long seconds = asked > 0 ? asked : SHORT_SECONDS;
        OptTokenizer tok = OptTokenizer.fromPretrained(FIXTURES.resolve("tokenizer"));
        List<String> texts = List.of("Hello, my dog is", "The weather today", "Once upon a time");
        GenerationConfig cfg = GenerationConfig.builder().maxNewTokens(6).eosTokenIds().build();
        try (Backend backend = Backend.create(BackendOptions.builder().threads(2).build());
             OptForCausalLM tiny = OptForCausalLM.fromPretrained(TINY, LoadOptions.builder().backend(backend).build());
             OptForCausalLM big = OptForCausalLM.fromPretrained(BIG, LoadOptions.builder().backend(backend).build())) {
            List<float[][]> wantForward = new ArrayList<>();
            try (Session s = tiny.newSession()) {
                for (int[][] p : PROMPTS) {
                    wantForward.add(forwardTwice(tiny, s, p));
                }
            }
            List<int[]> wantGen = new ArrayList<>();
            for (String t : texts) {
                wantGen.add(big.generate(tok, t, cfg).tokens(0));
            }
            long deadline = System.nanoTime() + seconds * 1_000_000_000L;
            AtomicLong done = new AtomicLong();
            Map<String, Throwable> failures = new ConcurrentHashMap<>();
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                int id = i;
                Runnable work = () -> {
                    try (Session s = tiny.newSession()) {
                        int n = 0;
                        while (System.nanoTime() < deadline) {
                            int k = (id + n++) % PROMPTS.length;
                            if (id % 2 == 0) {
                                float[][] got = forwardTwice(tiny, s, PROMPTS[k]);
                                assertArrayEquals(wantForward.get(k)[0], got[0], "forward " + k);
                                assertArrayEquals(wantForward.get(k)[1], got[1], "cached step " + k);
                            } else {
                                assertArrayEquals(wantGen.get(k), big.generate(tok, texts.get(k), cfg).tokens(0),
                                        "generate " + k);
                            }
                            done.incrementAndGet();
                        }
                    } catch (Throwable t) {
                        failures.put("thread " + id, t);
                    }
                };
                threads.add(i < 4 ? Thread.ofPlatform().start(work) : Thread.ofVirtual().start(work));
            }
            for (Thread t : threads) {
                t.join();
            }
            failures.forEach((k, t) -> { throw new AssertionError(k, t); });
            assertTrue(done.get() >= threads.size(), "every thread ran: " + done.get());
        }
    }

    @Test
    void closingAModelWhileThreadsRunForwardsIsDefined() throws Exception {
        for (int round = 0; round < 3; round++) {
            OptForCausalLM m = OptForCausalLM.fromPretrained(TINY);
            CountDownLatch started = new CountDownLatch(4);
            Map<String, Throwable> unexpected = new ConcurrentHashMap<>();
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                int id = i;
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        Session s = m.newSession();
                        started.countDown();
                        while (true) {
                            forwardTwice(m, s, PROMPTS[id % PROMPTS.length]);
                        }
                    } catch (IllegalStateException expected) {
                        // closed under us: the defined outcome
                    } catch (Throwable t) {
                        unexpected.put("thread " + id, t);
                    } finally {
                        started.countDown();
                    }
                }));
            }
            started.await();
            Thread.sleep(20);
            m.close();
            m.close(); // twice: a no-op
            for (Thread t : threads) {
                t.join(10_000);
                assertFalse(t.isAlive(), "a forward thread did not stop after close");
            }
            unexpected.forEach((k, t) -> { throw new AssertionError(k, t); });
        }
    }

    @Test
    void tensorsSessionsAndModelsThrowAfterClose() throws Exception {
        OptForCausalLM m = OptForCausalLM.fromPretrained(TINY);
        Session s = m.newSession();
        CausalLMOutput o = m.forward(ForwardRequest.inputIds(PROMPTS[0]).session(s).options(CACHED).build());
        FloatTensor logits = o.logits();
        m.close();
        m.close();
        assertFalse(s.isOpen());
        assertFalse(logits.isAlive());
        assertThrows(IllegalStateException.class, () -> logits.getFlat(0));
        assertThrows(IllegalStateException.class, logits::toFloatArray);
        assertThrows(IllegalStateException.class, logits::segment);
        assertThrows(IllegalStateException.class, s::pastLength);
        assertThrows(IllegalStateException.class, s::fork);
        assertThrows(IllegalStateException.class, s::pastKeyValues);
        assertThrows(IllegalStateException.class, m::newSession);
        assertThrows(IllegalStateException.class, () -> m.forward(PROMPTS[0]));
        assertThrows(IllegalStateException.class,
                () -> m.forward(ForwardRequest.inputIds(PROMPTS[0]).session(s).build()));
        assertThrows(IllegalStateException.class, () -> m.generate(PROMPTS[0], null,
                GenerationConfig.builder().maxNewTokens(2).build()));
        o.close();
        s.close();
        s.close();
    }

    @Test
    void interruptingAGeneratingThreadStopsAtTheNextTokenWithCancelled() throws Exception {
        GenerationConfig cfg = GenerationConfig.builder().maxNewTokens(40).eosTokenIds().build();
        try (OptForCausalLM m = OptForCausalLM.fromPretrained(BIG)) {
            int[] full = m.generate(PROMPTS[0], null, cfg).tokens(0);
            GenerationResult[] result = new GenerationResult[1];
            boolean[] stillInterrupted = new boolean[1];
            Thread t = Thread.ofPlatform().start(() -> {
                result[0] = m.generate(PROMPTS[0], null, cfg, tok -> {
                    if (tok.index() == 4) {
                        Thread.currentThread().interrupt(); // as another thread's interrupt() would
                    }
                });
                stillInterrupted[0] = Thread.currentThread().isInterrupted();
            });
            t.join();
            assertEquals(FinishReason.CANCELLED, result[0].reasons().get(0));
            assertArrayEquals(java.util.Arrays.copyOf(full, 5), result[0].tokens(0), "the tokens so far");
            assertTrue(stillInterrupted[0], "the interrupt status stays set");

            // From another thread, mid-generation.
            CountDownLatch first = new CountDownLatch(1);
            Thread g = Thread.ofVirtual().start(() -> {
                result[0] = m.generate(PROMPTS[0], null, cfg.toBuilder().maxNewTokens(400).build(),
                        tok -> first.countDown());
            });
            first.await();
            g.interrupt();
            g.join(30_000);
            assertFalse(g.isAlive());
            assertEquals(FinishReason.CANCELLED, result[0].reasons().get(0));
            assertTrue(result[0].tokens(0).length < 400);
        }
    }

    @Test
    void aTokenStreamCanBeCancelledFromAnotherThread() throws Exception {
        GenerationConfig cfg = GenerationConfig.builder().maxNewTokens(400).eosTokenIds().build();
        try (OptForCausalLM m = OptForCausalLM.fromPretrained(BIG);
             TokenStream tokens = m.stream(new int[][] {PROMPTS[0][0], PROMPTS[0][0]}, null, cfg)) {
            CountDownLatch first = new CountDownLatch(1);
            Thread consumer = Thread.ofPlatform().start(() -> {
                while (tokens.hasNext()) {
                    tokens.next();
                    first.countDown();
                }
            });
            first.await();
            tokens.cancel();
            consumer.join(30_000);
            assertFalse(consumer.isAlive());
            GenerationResult r = tokens.result();
            assertEquals(List.of(FinishReason.CANCELLED, FinishReason.CANCELLED), r.reasons());
            assertTrue(r.tokens(0).length >= 1 && r.tokens(0).length < 400);
            assertFalse(tokens.hasNext());
            assertInstanceOf(java.util.NoSuchElementException.class,
                    assertThrows(RuntimeException.class, tokens::next));
        }
    }
}
