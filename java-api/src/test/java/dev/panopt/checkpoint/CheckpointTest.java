package dev.panopt.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.DType;
import dev.panopt.OptConfig;
import dev.panopt.internal.Json;
import dev.panopt.internal.WeightLayout;
import dev.panopt.internal.WeightSpec;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CheckpointTest {
    @TempDir
    Path dir;

    static final OptConfig TINY = OptConfig.builder().vocabSize(10).hiddenSize(8).numHiddenLayers(2)
            .numAttentionHeads(2).ffnDim(16).maxPositionEmbeddings(4).wordEmbedProjDim(6).build();

    /** One weight of a synthetic checkpoint: stored name, dtype, shape. */
    record W(String name, DType dtype, long[] shape) {}

    /** The decoder weights of {@code c}, stored under {@code prefix + canonical name}. */
    static List<W> decoder(OptConfig c, String prefix) {
        List<W> out = new ArrayList<>();
        for (WeightSpec s : WeightLayout.decoderWeights(c)) {
            out.add(new W(prefix + s.name(), DType.F32, s.shape()));
        }
        return out;
    }

    static void writeShard(Path file, List<W> weights) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        for (W t : weights) {
            float[] v = new float[(int) TensorInfo.numel(t.shape)];
            for (int i = 0; i < v.length; i++) {
                v[i] = i * 0.5f;
            }
            if (t.dtype.isFloatingPoint()) {
                w.addFloats(t.name, t.dtype, t.shape, v);
            } else {
                w.addLongs(t.name, t.dtype, t.shape, new long[v.length]);
            }
        }
        w.write(file);
    }

    Path single(OptConfig c, List<W> weights) throws IOException {
        Files.writeString(dir.resolve("config.json"), c.toJson());
        writeShard(dir.resolve("model.safetensors"), weights);
        return dir;
    }

    /** Two shards split half/half, with an index mapping each stored name to its shard. */
    Path sharded(OptConfig c, List<W> weights, UnaryOperator<String> shardNameOf) throws IOException {
        Files.writeString(dir.resolve("config.json"), c.toJson());
        int half = weights.size() / 2;
        writeShard(dir.resolve("model-00001-of-00002.safetensors"), weights.subList(0, half));
        writeShard(dir.resolve("model-00002-of-00002.safetensors"), weights.subList(half, weights.size()));
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < weights.size(); i++) {
            String shard = i < half ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
            map.put(weights.get(i).name, shardNameOf.apply(shard));
        }
        Files.writeString(dir.resolve("model.safetensors.index.json"),
                Json.write(Map.of("metadata", Map.of("total_size", 1L), "weight_map", map), true));
        return dir;
    }

    static CheckpointException fails(Path directory, String... fragments) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> {
            try (Checkpoint cp = Checkpoint.open(directory)) {
                cp.validateDecoder();
            }
        });
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
        }
        return e;
    }

    @ParameterizedTest
    @ValueSource(strings = {"model.", ""})
    void singleFile(String prefix) throws IOException {
        List<W> ws = decoder(TINY, prefix);
        try (Checkpoint cp = Checkpoint.open(single(TINY, ws))) {
            cp.validateDecoder();
            assertEquals(TINY, cp.config());
            assertEquals(dir, cp.directory());
            assertEquals(ws.size(), cp.names().size());
            assertTrue(cp.names().contains("decoder.layers.1.fc2.bias"));
            Checkpoint.CheckpointTensor t = cp.require("decoder.layers.1.fc1.weight", 16, 8);
            assertEquals(prefix + "decoder.layers.1.fc1.weight", t.info().name());
            assertEquals(DType.F32, t.dtype());
            assertEquals(16 * 8 * 4, t.data().byteSize());
            assertEquals(0.5f, t.data().get(ValueLayout.JAVA_FLOAT_UNALIGNED, 4));
            assertEquals(dir.resolve("model.safetensors"), t.file());
            long expected = 0;
            for (WeightSpec s : WeightLayout.decoderWeights(TINY)) {
                expected += s.numel();
            }
            assertEquals(expected, cp.parameterCount());
            assertFalse(cp.find("lm_head.weight").isPresent());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"model.", ""})
    void shardedTwoShards(String prefix) throws IOException {
        List<W> ws = decoder(TINY, prefix);
        try (Checkpoint cp = Checkpoint.open(sharded(TINY, ws, s -> s))) {
            cp.validateDecoder();
            assertEquals(ws.size(), cp.names().size());
            Path first = cp.require("decoder.embed_tokens.weight", 10, 6).file();
            Path last = cp.require("decoder.layers.1.final_layer_norm.bias", 8).file();
            assertEquals("model-00001-of-00002.safetensors", first.getFileName().toString());
            assertEquals("model-00002-of-00002.safetensors", last.getFileName().toString());
        }
    }

    @Test
    void lmHeadPresent() throws IOException {
        List<W> ws = decoder(TINY, "model.");
        ws.add(new W("lm_head.weight", DType.F32, new long[] {10, 6}));
        try (Checkpoint cp = Checkpoint.open(single(TINY, ws))) {
            cp.validateDecoder();
            assertArrayEquals(new long[] {10, 6}, cp.find("lm_head.weight").orElseThrow().shape());
        }
    }

    @Test
    void lmHeadWrongShape() throws IOException {
        List<W> ws = decoder(TINY, "model.");
        ws.add(new W("lm_head.weight", DType.F32, new long[] {10, 8}));
        fails(single(TINY, ws), "tensor lm_head.weight has shape [10, 8], config expects [10, 6]");
    }

    @Test
    void missingTensor() throws IOException {
        List<W> ws = decoder(TINY, "model.");
        ws.removeIf(w -> w.name.equals("model.decoder.layers.1.fc1.weight"));
        CheckpointException e = fails(single(TINY, ws), "missing tensor decoder.layers.1.fc1.weight in " + dir);
        assertEquals("decoder.layers.1.fc1.weight", e.tensor().orElseThrow());
        try (Checkpoint cp = Checkpoint.open(dir)) {
            assertThrows(CheckpointException.class, () -> cp.require("decoder.layers.1.fc1.weight", 16, 8));
            assertTrue(cp.find("decoder.layers.1.fc1.weight").isEmpty());
        }
    }

    @Test
    void misshapenTensor() throws IOException {
        List<W> ws = decoder(TINY, "model.");
        ws.replaceAll(w -> w.name.equals("model.decoder.layers.0.fc2.weight") ? new W(w.name, w.dtype, new long[] {16, 8}) : w);
        fails(single(TINY, ws), "tensor decoder.layers.0.fc2.weight has shape [16, 8], config expects [8, 16]",
                "model.safetensors");
    }

    @Test
    void unsupportedWeightDtype() throws IOException {
        List<W> ws = decoder(TINY, "model.");
        ws.replaceAll(w -> w.name.equals("model.decoder.layers.0.fc1.bias") ? new W(w.name, DType.I64, w.shape) : w);
        fails(single(TINY, ws), "decoder.layers.0.fc1.bias", "I64", "F32, F16 or BF16");
    }

    @Test
    void f16AndBf16WeightsAccepted() throws IOException {
        List<W> ws = decoder(TINY, "");
        ws.replaceAll(w -> new W(w.name, w.name.contains("layers.0") ? DType.F16 : DType.BF16, w.shape));
        try (Checkpoint cp = Checkpoint.open(single(TINY, ws))) {
            cp.validateDecoder();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"../evil.safetensors", "/etc/passwd", "sub/x.safetensors", "..", ".", "",
            "a\\b.safetensors"})
    void pathTraversalShardName(String evil) throws IOException {
        List<W> ws = decoder(TINY, "model.");
        sharded(TINY, ws, s -> s.startsWith("model-00002") ? evil : s);
        fails(dir, "plain file name", "model.safetensors.index.json");
    }

    @Test
    void shardMissingTensor() throws IOException {
        List<W> ws = decoder(TINY, "model.");
        sharded(TINY, ws, s -> "model-00001-of-00002.safetensors"); // second half claimed by the wrong shard
        fails(dir, "model-00001-of-00002.safetensors", "not present in this shard");
    }

    @Test
    void shardFileMissing() throws IOException {
        sharded(TINY, decoder(TINY, ""), s -> s.replace("00002-of", "00003-of"));
        fails(dir, "model-00003-of-00002.safetensors", "not found");
    }

    @Test
    void badIndex() throws IOException {
        Files.writeString(dir.resolve("config.json"), TINY.toJson());
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\": []}");
        fails(dir, "model.safetensors.index.json", "weight_map");
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\": ");
        fails(dir, "model.safetensors.index.json", "invalid JSON");
    }

    @Test
    void duplicateCanonicalNamesInOneFile() throws IOException {
        List<W> ws = decoder(TINY, "model.");
        ws.add(new W("decoder.embed_tokens.weight", DType.F32, new long[] {10, 6}));
        fails(single(TINY, ws), "decoder.embed_tokens.weight", "also provided by");
    }

    @Test
    void duplicateCanonicalNamesAcrossShards() throws IOException {
        List<W> ws = decoder(TINY, "model.");
        ws.add(new W("decoder.layers.0.fc1.bias", DType.F32, new long[] {16})); // lands in shard 2
        fails(sharded(TINY, ws, s -> s), "decoder.layers.0.fc1.bias", "also provided by");
    }

    @Test
    void truncatedPytorchBinIsAClearError() throws IOException {
        Files.writeString(dir.resolve("config.json"), TINY.toJson());
        Files.write(dir.resolve("pytorch_model.bin"), new byte[] {'P', 'K'});
        fails(dir, "pytorch_model.bin", "zip: ");
    }

    @Test
    void noWeightsOrNoConfig() throws IOException {
        fails(dir, "config.json");
        Files.writeString(dir.resolve("config.json"), TINY.toJson());
        fails(dir, "no weights found");
        fails(dir.resolve("missing"), "not a checkpoint directory");
    }

    @Test
    void badConfigInCheckpoint() throws IOException {
        single(TINY, decoder(TINY, ""));
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": \"abc\"}");
        fails(dir, dir.resolve("config.json").toString(), "hidden_size");
    }

    @Test
    void malformedWeightFileIsReported() throws IOException {
        single(TINY, decoder(TINY, ""));
        TestFiles.raw(dir.resolve("model.safetensors"), "{\"w\":{\"dtype\":\"X\",\"shape\":[],\"data_offsets\":[0,0]}}", 0);
        fails(dir, dir.resolve("model.safetensors").toString(), "tensor w", "unsupported dtype");
    }

    @Test
    void useAfterClose() throws IOException {
        Checkpoint cp = Checkpoint.open(single(TINY, decoder(TINY, "")));
        Checkpoint.CheckpointTensor t = cp.require("decoder.embed_tokens.weight", 10, 6);
        cp.close();
        cp.close();
        for (Runnable r : List.<Runnable>of(cp::names, cp::config, cp::parameterCount,
                () -> cp.find("decoder.embed_tokens.weight"))) {
            IllegalStateException e = assertThrows(IllegalStateException.class, r::run);
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
        assertThrows(IllegalStateException.class, cp::validateDecoder);
        assertThrows(IllegalStateException.class, () -> t.data().get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void layoutFollowsConfigSwitches() {
        OptConfig c = TINY.toBuilder().enableBias(false).layerNormElementwiseAffine(false).wordEmbedProjDim(null).build();
        List<String> names = WeightLayout.decoderWeights(c).stream().map(WeightSpec::name).toList();
        assertEquals(2 + 2 * 6, names.size());
        assertFalse(names.stream().anyMatch(n -> n.endsWith(".bias") || n.contains("norm") || n.contains("project")));
        OptConfig post = TINY.toBuilder().doLayerNormBefore(false).build();
        assertFalse(WeightLayout.decoderWeights(post).stream().anyMatch(w -> w.name().startsWith("decoder.final_layer_norm")));
        WeightSpec q = WeightLayout.decoderWeights(TINY).stream().filter(w -> w.name().equals("decoder.layers.1.self_attn.q_proj.bias"))
                .findFirst().orElseThrow();
        assertEquals(dev.panopt.bindings.PanoptH.T_Q_BIAS, q.kind());
        assertEquals(1, q.layer());
        WeightSpec pos = WeightLayout.decoderWeights(TINY).get(1);
        assertEquals("decoder.embed_positions.weight", pos.name());
        assertArrayEquals(new long[] {6, 8}, pos.shape());
        assertEquals(-1, pos.layer());
        assertEquals(dev.panopt.bindings.PanoptH.T_EMBED_POSITIONS, pos.kind());
    }
}
