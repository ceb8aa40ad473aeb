package dev.panopt.fuzz;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.panopt.OptConfig;
import dev.panopt.checkpoint.CheckpointException;
import dev.panopt.internal.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Fuzzes {@code config.json}: {@link OptConfig#load} gives a config or a {@link CheckpointException} /
 * {@link IOException}, and a config that loads survives {@code fromJson(toJson())} unchanged (its
 * Javadoc); {@link Json#parse} gives a value or a {@link Json.ParseException}, and a parsed value
 * writes and parses back to itself.
 */
class ConfigFuzzTest {
    @FuzzTest
    @DictionaryEntries({"\"vocab_size\"", "\"hidden_size\"", "\"num_hidden_layers\"", "\"ffn_dim\"",
            "\"max_position_embeddings\"", "\"do_layer_norm_before\"", "\"_remove_final_layer_norm\"",
            "\"word_embed_proj_dim\"", "\"num_attention_heads\"", "\"activation_function\"", "\"id2label\"",
            "\"label2id\"", "\"num_labels\"", "\"problem_type\"", "\"model_type\"", "\"opt\"", "\"relu\"",
            "\"gelu\"", "\"enable_bias\"", "\"tie_word_embeddings\"", "\"pad_token_id\"", "1e400", "-0.0",
            "2147483648", "9223372036854775808", "\\ud800", "\\u0000", "null", "true"})
    void configJson(byte[] data) throws IOException {
        Path file = Fuzz.file("config.json", data);
        Fuzz.expect(data.length, () -> {
            OptConfig c = OptConfig.load(file);
            OptConfig back = OptConfig.fromJson(c.toJson());
            if (!back.equals(c)) {
                throw new AssertionError("fromJson(toJson()) differs:\n" + c.toJson() + "\n" + back.toJson());
            }
        }, CheckpointException.class, IOException.class);
        String text = new String(data, StandardCharsets.UTF_8);
        Fuzz.expect(data.length, () -> {
            Object v = Json.parse(text);
            String written = Json.write(v);
            if (!Objects.equals(Json.parse(written), v)) {
                throw new AssertionError("Json.parse(Json.write(v)) != v for " + written);
            }
        }, Json.ParseException.class);
    }
}
