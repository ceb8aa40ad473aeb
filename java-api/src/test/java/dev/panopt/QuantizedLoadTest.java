package dev.panopt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.Quantization.TensorClass;
import dev.panopt.checkpoint.SafetensorsFile;
import dev.panopt.checkpoint.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Converting weights while loading: the bytes, the report, progress, threads and heads. */
class QuantizedLoadTest {
    static final Path CASES = TaskModelsTest.CASES;
    static final Path PRELN = CASES.resolve("preln-tiny");
    static final Path F16_125M_SHAPE = CASES.resolve("opt125m-shape-f16");
    static final int[][] IDS = {{2, 10, 20, 30, 40}, {1, 1, 2, 50, 60}};
    static final int[][] MASK = {{1, 1, 1, 1, 1}, {0, 0, 1, 1, 1}};

    @TempDir
    Path tmp;

    /** A copy of {@code src} whose 2-D tensors are stored as {@code type} (converted here, in Java). */
    static Path storedAs(Path src, DType type, Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.copy(src.resolve("config.json"), dir.resolve("config.json"));
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        try (SafetensorsFile f = SafetensorsFile.open(src.resolve("model.safetensors"))) {
            for (String n : f.names()) {
                long[] shape = f.info(n).shape();
                w.addFloats(n, shape.length == 2 ? type : f.info(n).dtype(), shape, f.readFloats(n));
            }
        }
        w.write(dir.resolve("model.safetensors"));
        return dir;
    }

    static LoadOptions options(Backend backend, Quantization q) {
        return LoadOptions.builder().backend(backend).quantization(q).build();
    }

    static float[] logits(OptForCausalLM lm) {
        try (CausalLMOutput out = lm.forward(IDS, MASK)) {
            return out.logits().toFloatArray();
        }
    }

    @Test
    void f32ToF16OnLoadEqualsACheckpointStoredInF16() throws Exception {
        Path f16 = storedAs(PRELN, DType.F16, tmp.resolve("f16"));
        try (Backend b = Backend.create(BackendOptions.builder().threads(2).build());
             OptForCausalLM converted = OptForCausalLM.fromPretrained(PRELN, options(b, Quantization.F16));
             OptForCausalLM stored = OptForCausalLM.fromPretrained(f16, options(b, Quantization.NONE))) {
            assertArrayEquals(logits(stored), logits(converted));
            LoadReport r = converted.loadReport();
            assertEquals("F16", r.quantization());
            for (LoadReport.TensorFormat t : r.tensors()) {
                assertEquals(DType.F32, t.source(), t.name());
                assertEquals(t.shape().size() == 2 ? DType.F16 : DType.F32, t.stored(), t.name());
                assertEquals(t.shape().size() == 2, t.tensorClass().isPresent(), t.name());
                assertFalse(t.fellBack(), t.name());
            }
            assertEquals(r.storedBytes(), stored.loadReport().storedBytes());
            assertEquals(0, stored.loadReport().convertedBytes());
            assertTrue(r.convertedBytes() > 0 && r.convertedBytes() < r.storedBytes()); // the vectors stay mapped
            assertEquals(r.fallbacks(), List.of());
            assertTrue(r.summary().startsWith("F16: "), r.summary());
        }
    }

    /**
     * Block-format weights in 8-row groups (LoadOptions.repack, on by default): the report names exactly
     * the matrices in those formats (with a tied head, the embedding once: Q8_0 in the Q8_0 preset,
     * Q6_K in Q4_0's), and the logits are those of
     * the same model with its weights kept as stored, to f32 rounding (1e-5 of the largest).
     */
    @Test
    void repackedWeightsAreReportedAndComputeAsTheWeightsKeptAsStored() throws Exception {
        try (Backend b = Backend.create(BackendOptions.builder().threads(2).build())) {
            boolean grouping = b.isa() != Isa.SCALAR; // the scalar reference reads rows in order
            for (Quantization q : List.of(Quantization.Q8_0, Quantization.Q4_0, Quantization.Q4_1, Quantization.Q5_0,
                    Quantization.Q5_1, Quantization.Q4_K_M, Quantization.Q5_K_M)) {
                LoadOptions keep = LoadOptions.builder().backend(b).quantization(q).repack(false).build();
                try (OptForCausalLM packed = OptForCausalLM.fromPretrained(F16_125M_SHAPE, options(b, q));
                     OptForCausalLM kept = OptForCausalLM.fromPretrained(F16_125M_SHAPE, keep)) {
                    LoadReport r = packed.loadReport();
                    Set<String> blocks = new TreeSet<>();
                    for (LoadReport.TensorFormat t : r.tensors()) {
                        if (t.stored().isQuantized()) {
                            blocks.add(t.name());
                        }
                    }
                    assertFalse(blocks.isEmpty(), q.name());
                    assertEquals(grouping ? blocks : Set.of(), new TreeSet<>(r.repacked()), q.name());
                    assertEquals(Set.of(), kept.loadReport().repacked(), q.name());
                    assertEquals(grouping, r.summary().contains(blocks.size() + " repacked"), r.summary());
                    assertEquals(grouping ? r.storedBytes() - kept.loadReport().tensors().stream()
                            .filter(t -> !blocks.contains(t.name())).mapToLong(LoadReport.TensorFormat::storedBytes)
                            .sum() : 0, r.repackedBytes(), q.name());
                    float[] a = logits(packed);
                    float[] c = logits(kept);
                    float max = 0;
                    float diff = 0;
                    for (int i = 0; i < a.length; i++) {
                        max = Math.max(max, Math.abs(c[i]));
                        diff = Math.max(diff, Math.abs(a[i] - c[i]));
                    }
                    assertTrue(max > 0 && diff <= 1e-5f * max, q.name() + ": " + diff + " of " + max);
                }
            }
        }
    }

    /** Many chunks per tensor on three threads, from an F16 checkpoint (the copy-and-widen path). */
    @Test
    void f16ToBf16OnThreeThreadsEqualsACheckpointStoredInBf16() throws Exception {
        Path bf16 = storedAs(F16_125M_SHAPE, DType.BF16, tmp.resolve("bf16"));
        try (Backend b = Backend.create(BackendOptions.builder().threads(3).build());
             OptForCausalLM converted = OptForCausalLM.fromPretrained(F16_125M_SHAPE, options(b, Quantization.BF16));
             OptForCausalLM stored = OptForCausalLM.fromPretrained(bf16, options(b, Quantization.NONE))) {
            int[] ids = {2, 31414, 6, 127, 2335};
            try (CausalLMOutput x = converted.forward(ids); CausalLMOutput y = stored.forward(ids)) {
                assertArrayEquals(y.logits().toFloatArray(), x.logits().toFloatArray());
            }
        }
    }

    @Test
    void aTiedHeadIsOneTensorOfTheLmHeadsClass() throws Exception {
        Quantization embedHalf = Quantization.builder(Quantization.NONE).type(TensorClass.EMBED_TOKENS, DType.F16).build();
        Quantization headHalf = Quantization.builder(Quantization.NONE).type(TensorClass.LM_HEAD, DType.F16).build();
        try (OptForCausalLM lm = OptForCausalLM.fromPretrained(PRELN, options(Backend.shared(), embedHalf));
             OptModel base = OptModel.fromPretrained(PRELN, options(Backend.shared(), embedHalf));
             OptForCausalLM lmHalf = OptForCausalLM.fromPretrained(PRELN, options(Backend.shared(), headHalf))) {
            LoadReport.TensorFormat tied = only(lm.loadReport(), "decoder.embed_tokens.weight");
            assertEquals(Optional.of(TensorClass.LM_HEAD), tied.tensorClass());
            assertEquals(DType.F32, tied.stored()); // EMBED_TOKENS does not apply to a tied head
            assertTrue(lm.loadReport().tensors().stream().noneMatch(t -> t.name().startsWith("lm_head")));
            LoadReport.TensorFormat embed = only(base.loadReport(), "decoder.embed_tokens.weight");
            assertEquals(Optional.of(TensorClass.EMBED_TOKENS), embed.tensorClass());
            assertEquals(DType.F16, embed.stored());
            assertEquals(DType.F16, only(lmHalf.loadReport(), "decoder.embed_tokens.weight").stored());
            assertEquals(lm.loadReport().storedBytes() - 1000 * 64 * 2, lmHalf.loadReport().storedBytes());
        }
    }

    @Test
    void aNewTaskHeadFollowsItsClass() throws Exception {
        LoadOptions.Builder o = LoadOptions.builder().numLabels(3).initializeMissingHead(7);
        try (OptForSequenceClassification f16 = OptForSequenceClassification.fromPretrained(PRELN,
                o.quantization(Quantization.F16).build());
             OptForSequenceClassification none = OptForSequenceClassification.fromPretrained(PRELN,
                     o.quantization(Quantization.NONE).build())) {
            LoadReport.TensorFormat score = only(f16.loadReport(), "score.weight");
            assertEquals(Optional.of(TensorClass.SCORE), score.tensorClass());
            assertEquals(List.of(3L, 64L), score.shape());
            assertEquals(DType.F16, score.stored());
            assertEquals(DType.F32, only(none.loadReport(), "score.weight").stored());
            try (SequenceClassifierOutput a = f16.forward(IDS, MASK); SequenceClassifierOutput b = none.forward(IDS, MASK)) {
                float[] x = a.logits().toFloatArray();
                float[] y = b.logits().toFloatArray();
                for (int i = 0; i < x.length; i++) {
                    assertEquals(y[i], x[i], 1e-2 * Math.abs(y[i]) + 1e-3, "logit " + i);
                }
            }
        }
    }

    @Test
    void progressCountsEachSourceByteOnceOnTheLoadingThread() throws Exception {
        List<long[]> calls = new ArrayList<>();
        Thread loader = Thread.currentThread();
        List<Thread> threads = new ArrayList<>();
        LoadOptions o = LoadOptions.builder().quantization(Quantization.BF16)
                .backend(Backend.create(BackendOptions.builder().threads(2).build()))
                .progress((done, total) -> {
                    calls.add(new long[] {done, total});
                    threads.add(Thread.currentThread());
                }).build();
        try (OptForCausalLM lm = OptForCausalLM.fromPretrained(PRELN, o)) {
            long total = lm.loadReport().sourceBytes();
            assertEquals(0, calls.get(0)[0]);
            assertEquals(total, calls.get(calls.size() - 1)[0]);
            for (int i = 0; i < calls.size(); i++) {
                assertEquals(total, calls.get(i)[1]);
                assertTrue(i == 0 || calls.get(i)[0] >= calls.get(i - 1)[0]);
                assertSame(loader, threads.get(i));
            }
        } finally {
            o.backend().close();
        }
    }

    @Test
    void noneKeepsTheMappedBytes() throws Exception {
        try (OptForCausalLM lm = OptForCausalLM.fromPretrained(PRELN)) {
            LoadReport r = lm.loadReport();
            assertEquals("NONE", r.quantization());
            assertEquals(0, r.convertedBytes());
            assertEquals(r.sourceBytes(), r.storedBytes());
            assertTrue(r.tensors().stream().noneMatch(LoadReport.TensorFormat::converted));
            assertEquals(Quantization.NONE, LoadOptions.DEFAULT.quantization());
        }
    }

    @Test
    void q4KMOnATinyModelFallsBackAsLlamaCppDoes() throws Exception {
        // preln-tiny: hidden 64, ffn 256, 2 layers (layer 1 is the "more bits" one), tied head.
        try (OptForCausalLM lm = OptForCausalLM.fromPretrained(PRELN, options(Backend.shared(), Quantization.Q4_K_M))) {
            LoadReport r = lm.loadReport();
            String l0 = "decoder.layers.0.";
            String l1 = "decoder.layers.1.";
            assertFormat(r, l0 + "self_attn.q_proj.weight", DType.Q4_K, DType.Q5_0);
            assertFormat(r, l0 + "self_attn.v_proj.weight", DType.Q4_K, DType.Q5_0);
            assertFormat(r, l1 + "self_attn.v_proj.weight", DType.Q6_K, DType.Q8_0);
            assertFormat(r, l0 + "fc1.weight", DType.Q4_K, DType.Q5_0);
            assertFormat(r, l0 + "fc2.weight", DType.Q4_K, DType.Q4_K); // rows of 256
            assertFormat(r, l1 + "fc2.weight", DType.Q6_K, DType.Q6_K);
            assertFormat(r, "decoder.embed_tokens.weight", DType.Q6_K, DType.Q8_0);
            assertFormat(r, "decoder.embed_positions.weight", DType.F32, DType.F32);
            assertFormat(r, l0 + "fc1.bias", DType.F32, DType.F32);
            assertEquals("row length 64 is not a multiple of Q4_K's 256-element blocks: Q5_0",
                    only(r, l0 + "fc1.weight").fallbackReason());
            assertEquals(11, r.fallbacks().size()); // q, k, v, out_proj, fc1 of both layers (rows of 64), the head
            assertTrue(r.summary().contains("11 fell back"), r.summary());
            try (CausalLMOutput out = lm.forward(IDS, MASK)) {
                for (float v : out.logits().toFloatArray()) {
                    assertTrue(Float.isFinite(v));
                }
            }
        }
    }

    @Test
    void q8_0FallsBackToF16ForRowsThatAreNotBlocksOf32() throws Exception {
        try (OptForCausalLM lm = OptForCausalLM.fromPretrained(CASES.resolve("nobias-noaffine-tiny"),
                options(Backend.shared(), Quantization.Q8_0))) {
            LoadReport r = lm.loadReport(); // hidden 48, ffn 96
            assertFormat(r, "decoder.layers.0.fc1.weight", DType.Q8_0, DType.F16);
            assertFormat(r, "decoder.layers.0.fc2.weight", DType.Q8_0, DType.Q8_0);
            assertFormat(r, "decoder.embed_tokens.weight", DType.Q8_0, DType.F16);
        }
    }

    /** The chunks land in the same place whichever thread converts them. */
    @Test
    void quantizingOnOneOrThreeThreadsGivesTheSameModel() throws Exception {
        int[] ids = {2, 31414, 6, 127, 2335};
        float[][] logits = new float[3][];
        int[] threads = {1, 3, 3};
        for (int i = 0; i < 3; i++) {
            try (Backend b = Backend.create(BackendOptions.builder().threads(threads[i]).build());
                 OptForCausalLM lm = OptForCausalLM.fromPretrained(F16_125M_SHAPE, options(b, Quantization.Q4_K_M));
                 CausalLMOutput out = lm.forward(ids)) {
                logits[i] = out.logits().toFloatArray();
                assertTrue(lm.loadReport().fallbacks().isEmpty()); // widths 256 and 1024
            }
        }
        assertArrayEquals(logits[0], logits[1]);
        assertArrayEquals(logits[0], logits[2]);
    }

    @Test
    void f16RefusesValuesBeyondItsRange() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("big"));
        Files.copy(PRELN.resolve("config.json"), dir.resolve("config.json"));
        SafetensorsWriter w = new SafetensorsWriter();
        try (SafetensorsFile f = SafetensorsFile.open(PRELN.resolve("model.safetensors"))) {
            for (String n : f.names()) {
                float[] v = f.readFloats(n);
                if (n.endsWith("layers.1.fc1.weight")) {
                    v[64 * 3 + 5] = 1e5f;
                }
                w.addFloats(n, f.info(n).dtype(), f.info(n).shape(), v);
            }
        }
        w.write(dir.resolve("model.safetensors"));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> OptForCausalLM.fromPretrained(dir, options(Backend.shared(), Quantization.F16)));
        assertTrue(e.getMessage().startsWith("decoder.layers.1.fc1.weight [3, 5] = 100000.0 is beyond F16's range"),
                e.getMessage());
        try (OptForCausalLM lm = OptForCausalLM.fromPretrained(dir, options(Backend.shared(), Quantization.BF16))) {
            assertEquals(DType.BF16, only(lm.loadReport(), "decoder.layers.1.fc1.weight").stored());
        }
    }

    static void assertFormat(LoadReport r, String name, DType requested, DType stored) {
        LoadReport.TensorFormat t = only(r, name);
        assertEquals(requested, t.requested(), name);
        assertEquals(stored, t.stored(), name);
    }

    static LoadReport.TensorFormat only(LoadReport r, String name) {
        List<LoadReport.TensorFormat> m = r.tensors().stream().filter(t -> t.name().equals(name)).toList();
        assertEquals(1, m.size(), name + " in " + r.tensors());
        return m.get(0);
    }
}
