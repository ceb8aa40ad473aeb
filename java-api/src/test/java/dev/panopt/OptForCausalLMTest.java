package dev.panopt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The model API's contracts: shapes, bad input, lifetimes, threads (numbers are checked in conformance/). */
class OptForCausalLMTest {
    static final Path PRELN = Path.of(System.getProperty("panopt.fixtures", "../conformance/fixtures"))
            .resolve("cases/preln-tiny");
    static Backend backend;
    static OptForCausalLM model;

    @BeforeAll
    static void load() throws Exception {
        backend = Backend.create(BackendOptions.builder().threads(2).build());
        model = OptForCausalLM.fromPretrained(PRELN, LoadOptions.builder().backend(backend).build());
    }

    @AfterAll
    static void close() {
        model.close();
        backend.close();
    }

    static final int[][] IDS = {{2, 10, 20, 30, 40}, {1, 1, 2, 50, 60}};
    static final int[][] MASK = {{1, 1, 1, 1, 1}, {0, 0, 1, 1, 1}};

    @Test
    void logitsHaveBatchSeqVocabShapeAndAreFinite() {
        try (CausalLMOutput out = model.forward(IDS, MASK)) {
            assertArrayEquals(new long[] {2, 5, 1000}, out.logits().shape());
            for (float v : out.logits().toFloatArray()) {
                assertTrue(Float.isFinite(v));
            }
            assertTrue(out.loss().isEmpty());
            assertTrue(out.hiddenStates().isEmpty());
        }
    }

    @Test
    void leftPaddingGivesTheSameLogitsAsTheUnpaddedRow() {
        try (CausalLMOutput padded = model.forward(IDS, MASK);
             CausalLMOutput plain = model.forward(new int[][] {{2, 50, 60}})) {
            for (int t = 0; t < 3; t++) {
                float[] a = padded.logits().row(1, t + 2);
                float[] b = plain.logits().row(0, t);
                for (int v = 0; v < a.length; v++) {
                    assertEquals(b[v], a[v], 1e-4f + 1e-4f * Math.abs(b[v]));
                }
            }
        }
    }

    @Test
    void tokenIdOutsideTheVocabularyIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> model.forward(new int[][] {{2, 1000}}));
        assertTrue(e.getMessage().contains("input_ids[0][1] = 1000"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> model.forward(new int[][] {{-1}}));
    }

    @Test
    void sequenceLongerThanMaxPositionsIsRejected() {
        int[][] ids = {new int[model.config().maxPositionEmbeddings() + 1]};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.forward(ids));
        assertTrue(e.getMessage().contains("max_position_embeddings"), e.getMessage());
    }

    @Test
    void maskAndIdsShapeMismatchIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> model.forward(IDS, new int[][] {{1, 1, 1, 1, 1}}));
        assertThrows(IllegalArgumentException.class, () -> model.forward(IDS, new int[][] {{1, 1, 1}, {1, 1, 1}}));
        assertThrows(IllegalArgumentException.class, () -> model.forward(IDS, new int[][] {{1, 1, 1, 1, 2}, {1, 1, 1, 1, 1}}));
        assertThrows(IllegalArgumentException.class, () -> model.forward(new int[][] {{2, 3}, {2}}));
        assertThrows(IllegalArgumentException.class, () -> model.forward(new int[][] {}));
        assertThrows(IllegalArgumentException.class, () -> model.forward(new int[][] {{}}));
    }

    @Test
    void badLabelsAndHeadMaskAreRejected() {
        try (Session s = model.newSession()) {
            assertThrows(IllegalArgumentException.class,
                    () -> model.forward(ForwardRequest.inputIds(IDS).attentionMask(MASK).labels(new int[][] {{1, 2, 3, 4, 5}}).session(s).build()));
            assertThrows(IllegalArgumentException.class,
                    () -> model.forward(ForwardRequest.inputIds(IDS).attentionMask(MASK).labels(new int[][] {{1, 2, 3, 4, 5000}, {1, 2, 3, 4, 5}}).session(s).build()));
            ForwardOptions badHeads = ForwardOptions.builder().headMask(new float[][] {{1, 1, 1}, {1, 1, 1}}).build();
            assertThrows(IllegalArgumentException.class, () -> model.forward(ForwardRequest.inputIds(IDS).attentionMask(MASK).session(s).options(badHeads).build()));
            ForwardOptions badLayers = ForwardOptions.builder().headMask(new float[][] {{1, 1, 1, 1}}).build();
            assertThrows(IllegalArgumentException.class, () -> model.forward(ForwardRequest.inputIds(IDS).attentionMask(MASK).session(s).options(badLayers).build()));
        }
    }

    @Test
    void outputViewsThrowAfterTheOutputIsClosed() {
        CausalLMOutput out = model.forward(IDS, MASK);
        FloatTensor logits = out.logits();
        logits.get(0, 0, 0);
        out.close();
        assertFalse(logits.isAlive());
        assertThrows(IllegalStateException.class, () -> logits.get(0, 0, 0));
        assertThrows(IllegalStateException.class, logits::toFloatArray);
        assertThrows(IllegalStateException.class, logits::segment);
        out.close(); // idempotent
    }

    @Test
    void viewsAreReadOnly() {
        try (CausalLMOutput out = model.forward(IDS, MASK)) {
            assertTrue(out.logits().segment().isReadOnly());
            // JDK 25 reports writes to a read-only segment as IllegalArgumentException.
            RuntimeException e = assertThrows(RuntimeException.class,
                    () -> out.logits().segment().set(java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, 1f));
            assertTrue(e.getMessage().contains("read-only"), e.getMessage());
        }
    }

    @Test
    void sessionAndModelUseAfterCloseThrow() throws Exception {
        OptForCausalLM m = OptForCausalLM.fromPretrained(PRELN);
        Session s = m.newSession();
        CausalLMOutput out = m.forward(ForwardRequest.inputIds(IDS).attentionMask(MASK).session(s).build());
        s.close();
        assertThrows(IllegalStateException.class, () -> out.logits().getFlat(0));
        assertThrows(IllegalStateException.class, () -> m.forward(ForwardRequest.inputIds(IDS).attentionMask(MASK).session(s).build()));
        CausalLMOutput out2 = m.forward(IDS, MASK);
        m.close();
        assertThrows(IllegalStateException.class, () -> out2.logits().getFlat(0));
        assertThrows(IllegalStateException.class, () -> m.forward(IDS, MASK));
        assertThrows(IllegalStateException.class, m::newSession);
        m.close(); // idempotent
    }

    @Test
    void sessionOfAnotherModelIsRejected() throws Exception {
        try (OptForCausalLM other = OptForCausalLM.fromPretrained(PRELN); Session s = other.newSession()) {
            assertThrows(IllegalArgumentException.class,
                    () -> model.forward(ForwardRequest.inputIds(IDS).attentionMask(MASK).session(s).build()));
        }
    }

    @Test
    void cacheBeyondTheSessionCapacityIsRejected() {
        try (Session s = model.newSession(SessionOptions.builder().maxBatch(2).maxSequenceLength(6).build())) {
            ForwardOptions cached = ForwardOptions.builder().useCache(true).build();
            model.forward(ForwardRequest.inputIds(IDS).attentionMask(MASK).session(s).options(cached).build()).close();
            assertEquals(5, s.pastLength());
            int[][] next = {{7, 8}, {9, 10}};
            int[][] mask = {{1, 1, 1, 1, 1, 1, 1}, {0, 0, 1, 1, 1, 1, 1}};
            assertThrows(IllegalStateException.class, () -> model.forward(ForwardRequest.inputIds(next).attentionMask(mask).session(s).options(cached).build()));
            assertEquals(5, s.pastLength(), "a rejected call must not change the cache");
            assertThrows(IllegalArgumentException.class,
                    () -> model.forward(ForwardRequest.inputIds(new int[][] {{7}, {8}}).attentionMask(MASK).session(s).options(cached).build()), "mask must cover past + new");
        }
    }

    @Test
    void manyThreadsWithTheirOwnSessionsAgree() throws Exception {
        float[] reference;
        try (CausalLMOutput out = model.forward(IDS, MASK)) {
            reference = out.logits().toFloatArray();
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<float[]>> futures = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                futures.add(pool.submit(() -> {
                    try (Session s = model.newSession();
                         CausalLMOutput out = model.forward(ForwardRequest.inputIds(IDS).attentionMask(MASK).session(s).build())) {
                        return out.logits().toFloatArray();
                    }
                }));
            }
            for (Future<float[]> f : futures) {
                float[] got = f.get();
                for (int i = 0; i < got.length; i++) {
                    assertEquals(reference[i], got[i], 1e-4f + 1e-4f * Math.abs(reference[i]));
                }
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void everyIsaThisMachineHasGivesTheSameLogits() throws Exception {
        float[] reference = null;
        for (Isa isa : Panopt.availableIsas()) {
            try (Backend b = Backend.create(BackendOptions.builder().isa(isa).threads(2).build());
                 OptForCausalLM m = OptForCausalLM.fromPretrained(PRELN, LoadOptions.builder().backend(b).build());
                 CausalLMOutput out = m.forward(IDS, MASK)) {
                assertEquals(isa, b.isa());
                float[] got = out.logits().toFloatArray();
                if (reference == null) {
                    reference = got;
                } else {
                    for (int i = 0; i < got.length; i++) {
                        assertEquals(reference[i], got[i], 1e-4f + 1e-4f * Math.abs(reference[i]), isa.toString());
                    }
                }
            }
        }
    }

    @Test
    void loadProgressCountsATiedEmbeddingOnce() throws Exception {
        // preln-tiny ties lm_head to the embedding: the head binds the same bytes a second time.
        long tensors = 0;
        try (dev.panopt.checkpoint.Checkpoint ck = dev.panopt.checkpoint.Checkpoint.open(PRELN)) {
            assertTrue(ck.config().tieWordEmbeddings());
            for (String n : ck.names()) {
                tensors += ck.find(n).orElseThrow().info().byteSize();
            }
        }
        List<long[]> updates = new ArrayList<>();
        try (OptForCausalLM m = OptForCausalLM.fromPretrained(PRELN, LoadOptions.builder().backend(backend).preload(true)
                .progress((done, total) -> updates.add(new long[] {done, total})).build())) {
            long[] last = updates.get(updates.size() - 1);
            assertEquals(tensors, last[1], "total = the checkpoint's tensor bytes, the figure `panopt info` prints");
            assertEquals(last[1], last[0]);
            for (int i = 1; i < updates.size(); i++) {
                assertTrue(updates.get(i)[0] >= updates.get(i - 1)[0]);
            }
        }
    }
}
