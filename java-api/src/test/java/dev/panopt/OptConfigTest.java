package dev.panopt;

import dev.panopt.bindings.PanoptH;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.checkpoint.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OptConfigTest {
    @TempDir
    Path dir;

    @Test
    void defaultsMatchHuggingFace() {
        OptConfig c = OptConfig.fromJson("{}");
        assertEquals(50272, c.vocabSize());
        assertEquals(768, c.hiddenSize());
        assertEquals(12, c.numHiddenLayers());
        assertEquals(3072, c.ffnDim());
        assertEquals(2048, c.maxPositionEmbeddings());
        assertTrue(c.doLayerNormBefore());
        assertFalse(c.removeFinalLayerNorm());
        assertEquals(768, c.wordEmbedProjDim());
        assertEquals(0.1, c.dropout());
        assertEquals(0.0, c.attentionDropout());
        assertEquals(12, c.numAttentionHeads());
        assertEquals("relu", c.activationFunction());
        assertEquals(PanoptH.ACT_RELU, c.activationCode());
        assertEquals(0.0, c.layerdrop());
        assertEquals(0.02, c.initStd());
        assertTrue(c.useCache());
        assertEquals(OptionalInt.of(1), c.padTokenId());
        assertEquals(OptionalInt.of(2), c.bosTokenId());
        assertEquals(OptionalInt.of(2), c.eosTokenId());
        assertTrue(c.enableBias());
        assertTrue(c.layerNormElementwiseAffine());
        assertTrue(c.tieWordEmbeddings());
        assertEquals("opt", c.modelType());
        assertEquals(List.of(), c.architectures());
        assertTrue(c.torchDtype().isEmpty());
        assertEquals(2, c.numLabels());
        assertEquals(Map.of(0, "LABEL_0", 1, "LABEL_1"), c.id2label());
        assertEquals(Map.of("LABEL_0", 0, "LABEL_1", 1), c.label2id());
        assertTrue(c.problemType().isEmpty());
        assertTrue(c.hasFinalLayerNorm());
        assertFalse(c.hasProjection());
        assertEquals(64, c.headDim());
        assertEquals(c, OptConfig.builder().build());
    }

    @Test
    void derivedFlags() {
        OptConfig post = OptConfig.fromJson("{\"do_layer_norm_before\": false, \"word_embed_proj_dim\": 512,"
                + " \"hidden_size\": 1024, \"num_attention_heads\": 16}");
        assertFalse(post.hasFinalLayerNorm());
        assertTrue(post.hasProjection());
        assertEquals(512, post.wordEmbedProjDim());
        assertEquals(64, post.headDim());
        OptConfig removed = OptConfig.fromJson("{\"_remove_final_layer_norm\": true}");
        assertFalse(removed.hasFinalLayerNorm());
        assertEquals(768, OptConfig.fromJson("{\"word_embed_proj_dim\": null}").wordEmbedProjDim());
        assertEquals(OptionalInt.empty(), OptConfig.fromJson("{\"pad_token_id\": null}").padTokenId());
        assertEquals(PanoptH.ACT_GELU_TANH, OptConfig.fromJson("{\"activation_function\": \"gelu_new\"}").activationCode());
        assertEquals(PanoptH.ACT_LAPLACE, OptConfig.fromJson("{\"activation_function\": \"laplace\"}").activationCode());
    }

    @Test
    void labels() {
        OptConfig c = OptConfig.fromJson("{\"num_labels\": 3}");
        assertEquals(Map.of(0, "LABEL_0", 1, "LABEL_1", 2, "LABEL_2"), c.id2label());
        assertEquals(3, c.numLabels());
        OptConfig d = OptConfig.fromJson("{\"id2label\": {\"0\": \"neg\", \"1\": \"pos\"}, \"num_labels\": 2,"
                + " \"problem_type\": \"single_label_classification\"}");
        assertEquals(Map.of("neg", 0, "pos", 1), d.label2id());
        assertEquals("single_label_classification", d.problemType().orElseThrow());
        assertEquals(1, OptConfig.builder().numLabels(1).build().numLabels());
        assertEquals(d, OptConfig.fromJson(d.toJson()));
        assertEquals(c, OptConfig.fromJson(c.toJson()));
    }

    @Test
    void jsonRoundTripKeepsExtras() {
        String json = "{\"hidden_size\": 64, \"num_attention_heads\": 4, \"architectures\": [\"OPTForCausalLM\"],"
                + " \"torch_dtype\": \"float16\", \"prefix\": \"</s>\", \"transformers_version\": \"4.38.2\","
                + " \"some_future_key\": {\"a\": [1, 2.5, null]}, \"eos_token_id\": null, \"init_std\": 1}";
        OptConfig c = OptConfig.fromJson(json);
        assertEquals(Map.of("a", java.util.Arrays.asList(1L, 2.5, null)), c.extra().get("some_future_key"));
        assertThrows(UnsupportedOperationException.class, () -> c.extra().put("x", 1));
        OptConfig back = OptConfig.fromJson(c.toJson());
        assertEquals(c, back);
        assertEquals(c.hashCode(), back.hashCode());
        assertEquals(c, c.toBuilder().build());
        assertNotEquals(c, c.toBuilder().hiddenSize(128).build());
        assertTrue(c.toString().contains("hidden=64"), c.toString());
        assertTrue(c.toJson().contains("\"some_future_key\""));
    }

    private static void invalid(String json, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OptConfig.fromJson(json), json);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
        }
    }

    @Test
    void badTypes() {
        invalid("{\"hidden_size\": \"abc\"}", "hidden_size", "integer", "string");
        invalid("{\"hidden_size\": 768.0}", "hidden_size", "integer");
        invalid("{\"hidden_size\": 4294967296}", "hidden_size", "32-bit");
        invalid("{\"do_layer_norm_before\": 1}", "do_layer_norm_before", "true or false");
        invalid("{\"dropout\": \"0.1\"}", "dropout", "number");
        invalid("{\"activation_function\": 3}", "activation_function", "string");
        invalid("{\"architectures\": \"OPTForCausalLM\"}", "architectures", "array");
        invalid("{\"id2label\": {\"x\": \"a\"}}", "id2label", "\"x\"");
        invalid("{\"pad_token_id\": true}", "pad_token_id");
        invalid("[]", "object");
        invalid("{\"hidden_size\": 1,}", "invalid JSON");
    }

    @Test
    void badValues() {
        invalid("{\"hidden_size\": 0}", "hidden_size", "positive");
        invalid("{\"num_hidden_layers\": -1}", "num_hidden_layers", "positive");
        invalid("{\"hidden_size\": 100, \"num_attention_heads\": 12}", "hidden_size 100", "divisible", "12");
        invalid("{\"activation_function\": \"swiglu\"}", "swiglu", "relu");
        invalid("{\"model_type\": \"gpt2\"}", "model_type", "gpt2");
        invalid("{\"problem_type\": \"ranking\"}", "problem_type", "ranking");
        invalid("{\"dropout\": 1.5}", "dropout");
        invalid("{\"word_embed_proj_dim\": 0}", "word_embed_proj_dim");
        invalid("{\"max_position_embeddings\": 2147483647}", "max_position_embeddings");
        assertThrows(IllegalArgumentException.class, () -> OptConfig.builder().ffnDim(0).build());
        assertThrows(NullPointerException.class, () -> OptConfig.builder().activationFunction(null));
    }

    @Test
    void loadNamesTheFile() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": \"abc\"}");
        CheckpointException e = assertThrows(CheckpointException.class, () -> OptConfig.load(dir));
        assertTrue(e.getMessage().contains(dir.resolve("config.json").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("hidden_size"), e.getMessage());
        Files.write(dir.resolve("config.json"), new byte[] {'{', (byte) 0xc3, '}'});
        e = assertThrows(CheckpointException.class, () -> OptConfig.load(dir.resolve("config.json")));
        assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> OptConfig.load(dir.resolve("sub")));
        assertTrue(e.getMessage().contains("sub"), e.getMessage());
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": 64, \"num_attention_heads\": 4}");
        assertEquals(64, OptConfig.load(dir).hiddenSize());
    }
}
