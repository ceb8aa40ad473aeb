package dev.panopt.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tokenizer part of the bundled fixture set: every line of cases.jsonl and decode_cases.jsonl passes. */
class TokenizerConformanceTest {
    @Test
    void everyTokenizerCasePasses() {
        CaseResult r = TokenizerCases.run(ConformanceTest.FIXTURES.resolve("tokenizer"));
        String failures = r.tensors().stream().filter(t -> !t.pass())
                .map(t -> t.call() + "/" + t.name() + ": " + t.firstFailure()).collect(Collectors.joining("\n"));
        assertNull(r.reason(), r.reason());
        assertEquals("", failures);
        assertEquals(CaseResult.Status.PASS, r.status());
        // 63 encode lines (ids + strings) and 21 decode lines
        assertEquals(63 * 2 + 21, r.tensors().size());
    }

    @Test
    void checkerRunsTheTokenizer() throws IOException {
        List<CaseResult> rs = new Checker(dev.panopt.BackendOptions.DEFAULT)
                .run(ConformanceTest.FIXTURES, Set.of("tokenizer"));
        assertEquals(1, rs.size());
        assertEquals(CaseResult.Status.PASS, rs.get(0).status());
    }

    @Test
    void aWrongReferenceFails(@TempDir Path dir) throws IOException {
        Path src = ConformanceTest.FIXTURES.resolve("tokenizer");
        Files.copy(src.resolve("vocab.json"), dir.resolve("vocab.json"));
        Files.copy(src.resolve("merges.txt"), dir.resolve("merges.txt"));
        Files.writeString(dir.resolve("cases.jsonl"), "{\"text\": \"Hello world!\", \"ids\": [2, 31414, 232, 328], "
                + "\"tokens\": [\"</s>\", \"Hello\", \"Ġworld\", \"!\"], \"decoded\": \"</s>Hello world!\", "
                + "\"decoded_skip_special\": \"Hello world\", \"decoded_hf_default\": \"</s>Hello world!\"}\n"
                + "{\"text\": \"Hi\", \"ids\": [2, 30086, 1], \"tokens\": [\"</s>\", \"Hi\", \"<pad>\"], "
                + "\"decoded\": \"</s>Hi<pad>\", \"decoded_skip_special\": \"Hi\", \"decoded_hf_default\": \"</s>Hi<pad>\"}\n");
        Files.writeString(dir.resolve("decode_cases.jsonl"), "");
        CaseResult r = TokenizerCases.run(dir);
        assertEquals(CaseResult.Status.FAIL, r.status());
        assertTrue(r.tensors().get(0).pass(), "ids of line 1 are right");
        assertTrue(r.tensors().get(1).firstFailure().contains("decoded_skip_special"), r.tensors().get(1).firstFailure());
        assertTrue(!r.tensors().get(2).pass(), "ids of line 2 are wrong");
        assertTrue(r.tensors().get(2).firstFailure().contains("got 2 values, expected 3"), r.tensors().get(2).firstFailure());
    }
}
