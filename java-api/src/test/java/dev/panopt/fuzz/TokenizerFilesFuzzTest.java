package dev.panopt.fuzz;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.panopt.checkpoint.CheckpointException;
import dev.panopt.tokenizer.OptTokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Fuzzes {@link OptTokenizer#fromPretrained} on whole tokenizer directories (see {@link Fuzz#sections}):
 * {@code vocab.json} + {@code merges.txt} or {@code tokenizer.json}, with {@code tokenizer_config.json},
 * {@code special_tokens_map.json} and {@code added_tokens.json}. Any directory gives a tokenizer or a
 * {@link CheckpointException} / {@link IOException} (its Javadoc). A tokenizer that loads must encode
 * any text, and decode what it encoded.
 */
class TokenizerFilesFuzzTest {
    private static final String[] TEXTS = {"", "Hello world!", " </s><pad> x", "h\u00e9llo \ud83d\ude00 \u4e16\u754c",
            "a\ud800b", "  \n\t 123 don't"};

    @FuzzTest
    @DictionaryEntries({Fuzz.SECTION + "vocab.json" + Fuzz.NAME_END, Fuzz.SECTION + "merges.txt" + Fuzz.NAME_END,
            Fuzz.SECTION + "tokenizer.json" + Fuzz.NAME_END, Fuzz.SECTION + "tokenizer_config.json" + Fuzz.NAME_END,
            Fuzz.SECTION + "special_tokens_map.json" + Fuzz.NAME_END, Fuzz.SECTION + "added_tokens.json" + Fuzz.NAME_END,
            "#version: 0.2", "\"model\"", "\"vocab\"", "\"merges\"",
            "\"added_tokens\"", "\"added_tokens_decoder\"", "\"content\"", "\"special\"", "\"lstrip\"", "\"rstrip\"",
            "\"single_word\"", "\"normalized\"", "\"id\"", "\"bos_token\"", "\"eos_token\"", "\"unk_token\"",
            "\"pad_token\"", "\"mask_token\"", "\"additional_special_tokens\"", "\"add_bos_token\"",
            "\"add_prefix_space\"", "\"</s>\"", "\"<pad>\"", "\"\\u0120\"", "2147483647", "-1"})
    void tokenizerDirectory(byte[] data) throws IOException {
        Path dir = Fuzz.directory(data);
        Fuzz.expect(data.length, () -> {
            OptTokenizer tok = OptTokenizer.fromPretrained(dir);
            for (String text : TEXTS) {
                exercise(tok, text);
            }
            exercise(tok, new String(data, 0, Math.min(data.length, 256), StandardCharsets.UTF_8));
        }, CheckpointException.class, IOException.class);
    }

    private static void exercise(OptTokenizer tok, String text) {
        int[] ids = tok.encode(text);
        tok.decode(ids, true, true);
        String plain = tok.decode(ids, false, false);
        if (plain == null) {
            throw new AssertionError();
        }
        tok.encodeWithOffsets(text, true);
        OptTokenizer.StreamDecoder sd = tok.newStreamDecoder(false);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            sb.append(sd.push(id));
        }
        sb.append(sd.finish());
        if (!sb.toString().equals(plain)) {
            throw new AssertionError("stream decode " + sb + " != decode " + plain);
        }
    }
}
