package dev.panopt.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.CausalLMOutput;
import dev.panopt.DType;
import dev.panopt.LoadOptions;
import dev.panopt.OptConfig;
import dev.panopt.OptForCausalLM;
import dev.panopt.OptForQuestionAnswering;
import dev.panopt.OptForSequenceClassification;
import dev.panopt.QuestionAnsweringOutput;
import dev.panopt.Quantization;
import dev.panopt.SequenceClassifierOutput;
import dev.panopt.internal.Json;
import dev.panopt.internal.WeightLayout;
import dev.panopt.internal.WeightSpec;
import dev.panopt.tokenizer.OptTokenizer;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HF checkpoint → GGUF → load: same config, same tensor bytes, the same logits bit for bit; the tokenizer inside. */
class OptGgufTest {
    static final Path FIXTURES = Path.of(System.getProperty("panopt.fixtures", "../conformance/fixtures"));
    static final Path CASES = FIXTURES.resolve("cases");
    static final Path OPT_TOKENIZER = FIXTURES.resolve("tokenizer");
    static final int[][] IDS = {{2, 10, 20, 30, 7}, {2, 40, 1, 1, 5}};
    static final int[][] MASK = {{1, 1, 1, 1, 1}, {1, 1, 0, 0, 1}};

    @TempDir
    Path dir;

    /**
     * A copy (which a test may add files to) of the byte-level tokenizer of 267 tokens in the test resources,
     * small enough for the 1000-token test checkpoints.
     */
    static Path tinyTokenizer(Path dir) throws IOException {
        Path src;
        try {
            src = Path.of(OptGgufTest.class.getResource("/dev/panopt/byte-tokenizer").toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IOException(e);
        }
        Path d = Files.createDirectories(dir.resolve("tiny-tokenizer"));
        for (String f : List.of("vocab.json", "merges.txt")) {
            Files.copy(src.resolve(f), d.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        return d;
    }

    private Path convert(String caseName, Quantization q, OptTokenizer tok) throws IOException {
        Path out = dir.resolve(caseName + "-" + q.name() + ".gguf");
        long[] last = {-1, -1};
        OptGguf.convert(CASES.resolve(caseName), out, q, tok, (d, t) -> {
            assertTrue(d >= last[0] && d <= t, d + " of " + t);
            last[0] = d;
            last[1] = t;
        });
        assertEquals(last[1], last[0], "progress ends at the total");
        return out;
    }

    private static float[] logits(Path model) throws IOException {
        return logits(model, Quantization.NONE);
    }

    /** Logits of {@code model} loaded with {@code q}; a GGUF file loaded as stored must copy nothing. */
    private static float[] logits(Path model, Quantization q) throws IOException {
        try (OptForCausalLM lm = OptForCausalLM.fromPretrained(model, LoadOptions.builder().quantization(q).build());
             CausalLMOutput out = lm.forward(IDS, MASK)) {
            if (Files.isRegularFile(model) && q.keepsEverything()) {
                assertEquals(0, lm.loadReport().convertedBytes(), "a GGUF file's weights are used where they are mapped");
            }
            return out.logits().toFloatArray();
        }
    }

    @Test
    void tensorNamesFollowGgufPyAndRoundTrip() {
        OptConfig c = OptConfig.builder().vocabSize(8).hiddenSize(4).numHiddenLayers(12).numAttentionHeads(1).ffnDim(8)
                .maxPositionEmbeddings(6).wordEmbedProjDim(2).build();
        List<String> hf = new ArrayList<>();
        for (WeightSpec w : WeightLayout.decoderWeights(c)) {
            hf.add(w.name());
        }
        hf.addAll(List.of("lm_head.weight", "score.weight", "qa_outputs.weight", "qa_outputs.bias"));
        for (String n : hf) {
            String g = OptGguf.ggufName(n).orElseThrow(() -> new AssertionError(n));
            assertTrue(g.length() <= GgufFile.MAX_TENSOR_NAME_BYTES, g);
            assertEquals(Optional.of(n), OptGguf.hfName(g), g);
        }
        assertEquals(Optional.of("token_embd.weight"), OptGguf.ggufName("decoder.embed_tokens.weight"));
        assertEquals(Optional.of("position_embd.weight"), OptGguf.ggufName("decoder.embed_positions.weight"));
        assertEquals(Optional.of("output_norm.bias"), OptGguf.ggufName("decoder.final_layer_norm.bias"));
        assertEquals(Optional.of("output.weight"), OptGguf.ggufName("lm_head.weight"));
        assertEquals(Optional.of("blk.11.attn_output.weight"), OptGguf.ggufName("decoder.layers.11.self_attn.out_proj.weight"));
        assertEquals(Optional.of("blk.0.attn_norm.weight"), OptGguf.ggufName("decoder.layers.0.self_attn_layer_norm.weight"));
        assertEquals(Optional.of("blk.0.ffn_norm.bias"), OptGguf.ggufName("decoder.layers.0.final_layer_norm.bias"));
        assertEquals(Optional.of("blk.2.ffn_down.weight"), OptGguf.ggufName("decoder.layers.2.fc2.weight"));
        assertEquals(Optional.of("project_in.weight"), OptGguf.ggufName("decoder.project_in.weight"));
        for (String unknown : List.of("decoder.layers.0.foo.weight", "blk.01.attn_q.weight", "token_embd", "x.weight",
                "decoder.layers.-1.fc1.weight")) {
            assertEquals(Optional.empty(), OptGguf.ggufName(unknown), unknown);
            assertEquals(Optional.empty(), OptGguf.hfName(unknown), unknown);
        }
    }

    @Test
    void f32CasesConvertLosslesslyAndGiveTheSameLogits() throws IOException {
        OptTokenizer tok = OptTokenizer.fromPretrained(tinyTokenizer(dir));
        for (String name : List.of("preln-tiny", "postln-proj-tiny", "nobias-noaffine-tiny", "remove-final-ln-tiny")) {
            Path gguf = convert(name, Quantization.NONE, tok);
            try (Checkpoint src = Checkpoint.open(CASES.resolve(name)); Checkpoint g = Checkpoint.open(gguf)) {
                g.validateDecoder();
                assertSameModelConfig(src.config(), g.config());
                for (String t : src.names()) {
                    assertArrayEquals(src.find(t).orElseThrow().data().toArray(ValueLayout.JAVA_BYTE),
                            g.find(t).orElseThrow().data().toArray(ValueLayout.JAVA_BYTE), name + " " + t);
                }
                assertEquals(src.names(), g.names(), name);
            }
            assertArrayEquals(logits(CASES.resolve(name)), logits(gguf), name);
        }
    }

    static void assertSameModelConfig(OptConfig a, OptConfig b) {
        assertEquals(a.vocabSize(), b.vocabSize());
        assertEquals(a.hiddenSize(), b.hiddenSize());
        assertEquals(a.numHiddenLayers(), b.numHiddenLayers());
        assertEquals(a.ffnDim(), b.ffnDim());
        assertEquals(a.maxPositionEmbeddings(), b.maxPositionEmbeddings());
        assertEquals(a.numAttentionHeads(), b.numAttentionHeads());
        assertEquals(a.wordEmbedProjDim(), b.wordEmbedProjDim());
        assertEquals(a.doLayerNormBefore(), b.doLayerNormBefore());
        assertEquals(a.removeFinalLayerNorm(), b.removeFinalLayerNorm());
        assertEquals(a.enableBias(), b.enableBias());
        assertEquals(a.layerNormElementwiseAffine(), b.layerNormElementwiseAffine());
        assertEquals(a.activationFunction(), b.activationFunction());
        assertEquals(a.tieWordEmbeddings(), b.tieWordEmbeddings());
        assertEquals(a.padTokenId(), b.padTokenId());
        assertEquals(a.bosTokenId(), b.bosTokenId());
        assertEquals(a.eosTokenId(), b.eosTokenId());
        assertEquals(a.initStd(), b.initStd());
        assertEquals(a.id2label(), b.id2label());
        assertEquals(a.label2id(), b.label2id());
        assertEquals(a.problemType(), b.problemType());
    }

    @Test
    void f16CheckpointWithOptsTokenizerIsOneSelfContainedFile() throws IOException {
        OptTokenizer dirTok = OptTokenizer.fromPretrained(OPT_TOKENIZER);
        Path gguf = convert("opt125m-shape-f16", Quantization.F16, dirTok);
        try (GgufFile g = GgufFile.open(gguf)) {
            assertEquals("opt", g.getString("general.architecture"));
            assertEquals(1, g.getLong(OptGguf.FILE_TYPE_KEY));
            assertEquals(32, g.getLong(GgufFile.ALIGNMENT_KEY));
            assertFalse(g.keys().contains(OptGguf.QUANTIZATION_VERSION_KEY));
            assertEquals(2050, g.tensor("position_embd.weight").shape()[0], "context 2048 + OPT's offset 2");
            assertArrayEquals(new long[] {50272, 256}, g.tensor("token_embd.weight").shape());
            assertFalse(g.tensorNames().contains("output.weight"), "a tied head is token_embd");
            assertEquals(50265, g.arrayLength("tokenizer.ggml.tokens"));
        }
        assertArrayEquals(logits(CASES.resolve("opt125m-shape-f16")), logits(gguf));
        OptTokenizer ggufTok = OptTokenizer.fromPretrained(gguf);
        assertEquals(dirTok.toString(), ggufTok.toString());
        assertEquals(dirTok.specialTokenIds(), ggufTok.specialTokenIds());
        for (String line : Files.readAllLines(OPT_TOKENIZER.resolve("cases.jsonl"))) {
            String text = Json.asString(Json.asObject(Json.parse(line), "case").get("text"), "text");
            int[] ids = dirTok.encode(text);
            assertArrayEquals(ids, ggufTok.encode(text), text);
            assertEquals(dirTok.encodeWithOffsets(text, true), ggufTok.encodeWithOffsets(text, true), text);
            assertEquals(dirTok.decode(ids, false, true), ggufTok.decode(ids, false, true), text);
            assertEquals(dirTok.decode(ids, true, false), ggufTok.decode(ids, true, false), text);
        }
    }

    @Test
    void taskHeadsAndTheirConfigsConvert() throws IOException {
        OptTokenizer tok = OptTokenizer.fromPretrained(tinyTokenizer(dir));
        for (String name : List.of("seqcls-single", "seqcls-multi", "seqcls-regression")) {
            Path gguf = convert(name, Quantization.NONE, tok);
            try (Checkpoint src = Checkpoint.open(CASES.resolve(name)); Checkpoint g = Checkpoint.open(gguf)) {
                assertSameModelConfig(src.config(), g.config());
            }
            try (GgufFile g = GgufFile.open(gguf)) {
                assertTrue(g.tensorNames().contains("score.weight"));
            }
            float[][] got = new float[2][];
            Path[] paths = {CASES.resolve(name), gguf};
            for (int i = 0; i < 2; i++) {
                try (OptForSequenceClassification m = OptForSequenceClassification.fromPretrained(paths[i]);
                     SequenceClassifierOutput out = m.forward(IDS, MASK)) {
                    got[i] = out.logits().toFloatArray();
                }
            }
            assertArrayEquals(got[0], got[1], name);
        }
        Path qa = convert("qa", Quantization.NONE, tok);
        float[][] got = new float[2][];
        Path[] paths = {CASES.resolve("qa"), qa};
        for (int i = 0; i < 2; i++) {
            try (OptForQuestionAnswering m = OptForQuestionAnswering.fromPretrained(paths[i]);
                 QuestionAnsweringOutput out = m.forward(IDS, MASK)) {
                got[i] = out.startLogits().toFloatArray();
            }
        }
        assertArrayEquals(got[0], got[1]);
    }

    @Test
    void everyPresetStoresWhatLoadingWithItStores() throws IOException {
        OptTokenizer tok = OptTokenizer.fromPretrained(tinyTokenizer(dir));
        for (Quantization q : Quantization.presets()) {
            Path gguf = convert("preln-tiny", q, tok);
            assertArrayEquals(logits(CASES.resolve("preln-tiny"), q), logits(gguf), q.name());
        }
    }

    @Test
    void kQuantMixesHoldTheirFormatsAndTheLogitsOfLoadingWithThem() throws IOException {
        OptTokenizer opt = OptTokenizer.fromPretrained(OPT_TOKENIZER);
        for (Quantization q : List.of(Quantization.Q4_K_M, Quantization.Q8_0)) {
            Path gguf = convert("opt125m-shape-f16", q, opt);
            try (GgufFile g = GgufFile.open(gguf)) {
                assertEquals(OptGguf.fileType(q).getAsInt(), g.getLong(OptGguf.FILE_TYPE_KEY));
                assertEquals(OptGguf.QUANTIZATION_VERSION, g.getLong(OptGguf.QUANTIZATION_VERSION_KEY));
                boolean k = q == Quantization.Q4_K_M;
                assertEquals(k ? DType.Q6_K : DType.Q8_0, g.tensor("token_embd.weight").dtype(), "the tied head's type");
                assertEquals(k ? DType.Q4_K : DType.Q8_0, g.tensor("blk.0.attn_q.weight").dtype());
                // llama.cpp's use_more_bits of 2 layers: layer 1 (the last eighth), not layer 0
                assertEquals(k ? DType.Q4_K : DType.Q8_0, g.tensor("blk.0.ffn_down.weight").dtype());
                assertEquals(k ? DType.Q6_K : DType.Q8_0, g.tensor("blk.1.ffn_down.weight").dtype(), "more bits");
                assertEquals(k ? DType.Q6_K : DType.Q8_0, g.tensor("blk.1.attn_v.weight").dtype(), "more bits");
                assertEquals(DType.F16, g.tensor("position_embd.weight").dtype(), "positions keep their type");
                assertEquals(DType.F16, g.tensor("blk.0.attn_q.bias").dtype(), "vectors keep their type");
            }
            assertArrayEquals(logits(CASES.resolve("opt125m-shape-f16"), q), logits(gguf), q.name());
        }
    }

    @Test
    void taskModelsQuantizeTheirOwnWay() throws IOException {
        OptTokenizer tok = OptTokenizer.fromPretrained(tinyTokenizer(dir));
        Quantization q = Quantization.Q4_0;
        Path gguf = convert("seqcls-single", q, tok);
        LoadOptions quantized = LoadOptions.builder().quantization(q).build();
        try (OptForSequenceClassification a = OptForSequenceClassification.fromPretrained(CASES.resolve("seqcls-single"),
                quantized); OptForSequenceClassification b = OptForSequenceClassification.fromPretrained(gguf);
             SequenceClassifierOutput x = a.forward(IDS, MASK); SequenceClassifierOutput y = b.forward(IDS, MASK)) {
            assertArrayEquals(x.logits().toFloatArray(), y.logits().toFloatArray());
            for (var t : a.loadReport().tensors()) {
                var same = b.loadReport().tensors().stream().filter(u -> u.name().equals(t.name())).findFirst().orElseThrow();
                assertEquals(t.stored(), same.stored(), t.name());
            }
        }
    }

    @Test
    void conversionRefusesWhatItCannotWriteFaithfully() throws IOException {
        OptTokenizer opt = OptTokenizer.fromPretrained(OPT_TOKENIZER);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OptGguf.convert(
                CASES.resolve("preln-tiny"), dir.resolve("x.gguf"), Quantization.NONE, opt, (d, t) -> {}));
        assertTrue(e.getMessage().contains("50265") && e.getMessage().contains("1000"), e.getMessage());
        Path big = Files.createDirectories(dir.resolve("big"));
        Files.copy(CASES.resolve("preln-tiny/config.json"), big.resolve("config.json"));
        SafetensorsWriter w = new SafetensorsWriter();
        try (SafetensorsFile f = SafetensorsFile.open(CASES.resolve("preln-tiny/model.safetensors"))) {
            for (String n : f.names()) {
                float[] v = f.readFloats(n);
                if (n.endsWith("layers.1.fc1.weight")) {
                    v[64 * 3 + 5] = 1e5f;
                }
                w.addFloats(n, f.info(n).dtype(), f.info(n).shape(), v);
            }
        }
        w.write(big.resolve("model.safetensors"));
        IllegalArgumentException f16 = assertThrows(IllegalArgumentException.class,
                () -> OptGguf.convert(big, dir.resolve("x.gguf"), Quantization.F16, null, (d, t) -> {}));
        assertTrue(f16.getMessage().startsWith("decoder.layers.1.fc1.weight [3, 5] = 100000.0 is beyond F16's range"),
                f16.getMessage());
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(), s.filter(p -> p.getFileName().toString().contains("x.gguf")).toList(),
                    "nothing left behind");
        }
        Path strip = tinyTokenizer(dir);
        Files.writeString(strip.resolve("tokenizer_config.json"), "{\"added_tokens_decoder\": {\"267\": {\"content\":"
                + " \"<mask>\", \"lstrip\": true, \"special\": true}}}");
        OptTokenizer stripping = OptTokenizer.fromPretrained(strip);
        IllegalArgumentException s = assertThrows(IllegalArgumentException.class, () -> stripping.writeGguf(new GgufWriter()));
        assertTrue(s.getMessage().contains("<mask>") && s.getMessage().contains("lstrip"), s.getMessage());
    }

    @Test
    void addedTokensRoundTrip() throws IOException {
        Path d = tinyTokenizer(dir);
        Files.writeString(d.resolve("tokenizer_config.json"), "{\"added_tokens_decoder\": {"
                + "\"267\": {\"content\": \"<mask>\", \"special\": true},"
                + "\"268\": {\"content\": \"hello world\", \"special\": false}}}", StandardCharsets.UTF_8);
        OptTokenizer a = OptTokenizer.fromPretrained(d);
        GgufWriter w = new GgufWriter();
        a.writeGguf(w);
        Path f = dir.resolve("tok.gguf");
        w.write(f);
        OptTokenizer b = OptTokenizer.fromPretrained(f);
        assertEquals(a.toString(), b.toString());
        assertEquals(a.specialTokenIds(), b.specialTokenIds());
        for (String text : List.of("the <mask> hello world!", "<pad></s>hello worldhello world", " in the ai ")) {
            assertArrayEquals(a.encode(text), b.encode(text), text);
            int[] ids = a.encode(text);
            assertEquals(a.decode(ids, false, true), b.decode(ids, false, true), text);
            assertEquals(a.decode(ids, true, false), b.decode(ids, true, false), text);
        }
    }

    @Test
    void ggufFilesThatAreNotOptModelsAreRejectedByName() throws IOException {
        Path gpt2 = dir.resolve("gpt2.gguf");
        new GgufWriter().putString("general.architecture", "gpt2").write(gpt2);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.open(gpt2));
        assertTrue(e.getMessage().contains("general.architecture is \"gpt2\""), e.getMessage());
        CheckpointException t = assertThrows(CheckpointException.class, () -> OptTokenizer.fromPretrained(gpt2));
        assertTrue(t.getMessage().contains("missing key tokenizer.ggml.model"), t.getMessage());
        Path noEps = dir.resolve("eps.gguf");
        new GgufWriter().putString("general.architecture", "opt").putFloat32("opt.attention.layer_norm_epsilon", 1e-6f)
                .write(noEps);
        CheckpointException eps = assertThrows(CheckpointException.class, () -> Checkpoint.open(noEps));
        assertTrue(eps.getMessage().contains("opt.attention.layer_norm_epsilon"), eps.getMessage());
    }
}
