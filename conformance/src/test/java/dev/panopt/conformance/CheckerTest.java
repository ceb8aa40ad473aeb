package dev.panopt.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The check tool on fixture sets assembled here: an absent optional file is a visible SKIP with its
 * reason, the summary counts every failure, and the exit status agrees with the summary.
 */
class CheckerTest {
    record Run(int code, String out, String err) {}

    static Run check(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Check.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** A fixture set with one model case and the tokenizer folder without decode_cases.jsonl. */
    static Path withoutDecodeCases(Path dir) throws IOException {
        copyTree(ConformanceTest.FIXTURES.resolve("cases/preln-tiny"), dir.resolve("cases/preln-tiny"));
        Path tok = Files.createDirectories(dir.resolve("tokenizer"));
        for (String f : new String[] {"vocab.json", "merges.txt", "cases.jsonl"}) {
            Files.copy(ConformanceTest.FIXTURES.resolve("tokenizer").resolve(f), tok.resolve(f));
        }
        return dir;
    }

    static void copyTree(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : s.toList()) {
                if (Files.isRegularFile(p)) {
                    Files.copy(p, to.resolve(p.getFileName().toString()));
                }
            }
        }
    }

    static String summary(String out) {
        String[] lines = out.strip().split("\n");
        return lines[lines.length - 1];
    }

    @Test
    void anAbsentOptionalFileIsAVisibleSkip(@TempDir Path dir) throws IOException {
        Run r = check(withoutDecodeCases(dir).toString(), "--threads", "1");
        assertEquals(0, r.code(), r.out() + r.err());
        assertFalse(r.out().contains("FAIL"), r.out());
        assertTrue(r.out().contains("PASS tokenizer"), r.out());
        assertTrue(r.out().contains("  SKIPPED decode_cases.jsonl (optional file absent"), r.out());
        assertTrue(summary(r.out()).matches("\\d+ passed, 0 failed, 1 skipped"), summary(r.out()));
    }

    @Test
    void aTokenizerFolderWithoutCasesIsSkippedWithTheReason(@TempDir Path dir) throws IOException {
        withoutDecodeCases(dir);
        Files.delete(dir.resolve("tokenizer/cases.jsonl"));
        Run r = check(dir.toString(), "--case", "tokenizer");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().startsWith("SKIPPED tokenizer (cases.jsonl (optional file absent"), r.out());
        assertEquals("0 passed, 0 failed, 1 skipped", summary(r.out()));
    }

    @Test
    void aCaseThatFailsWithoutATensorIsCountedAndSetsTheExitStatus(@TempDir Path dir) throws IOException {
        withoutDecodeCases(dir);
        Files.writeString(dir.resolve("tokenizer/vocab.json"), "{\"a\": ");
        Run r = check(dir.toString(), "--case", "tokenizer");
        assertTrue(r.out().startsWith("FAIL tokenizer ("), r.out());
        assertFalse(r.out().contains("Exception"), "a message, not an exception's name: " + r.out());
        assertEquals("0 passed, 1 failed, 1 skipped", summary(r.out()));
        assertEquals(1, r.code());

        Files.delete(dir.resolve("tokenizer/merges.txt"));
        r = check(dir.toString(), "--case", "tokenizer", "--json");
        assertEquals(1, r.code());
        assertTrue(r.out().contains("no merges.txt in"), r.out());
        assertTrue(r.out().replaceAll("\\s", "").contains("\"summary\":{\"passed\":0,\"failed\":1,\"skipped\":1}"), r.out());
    }

    @Test
    void quantizeJudgesTheLogitsAndNamesTheFallbacks(@TempDir Path dir) throws IOException {
        copyTree(ConformanceTest.FIXTURES.resolve("cases/preln-tiny"), dir.resolve("cases/preln-tiny"));
        Run r = check(dir.toString(), "--quantize", "q4_k_m", "--threads", "1");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().startsWith("PASS preln-tiny"), r.out());
        assertTrue(r.out().matches("(?s).*  PASS main +logits +\\[3, 9, 1000\\] +20 pos  KL mean .* top-1 .*"), r.out());
        assertTrue(r.out().contains("  SKIPPED main/loss: not compared with quantized weights"), r.out());
        assertTrue(r.out().contains("  note: Q4_K_M: 0.7 MB -> 0.2 MB;"), r.out());
        assertTrue(r.out().contains("11 fell back: decoder.embed_tokens.weight (Q6_K -> Q8_0)"), r.out());
        assertTrue(r.out().contains("  note: greedy (free-running): "), r.out());
        assertTrue(summary(r.out()).matches("3 passed, 0 failed, \\d+ skipped"), summary(r.out()));
        Run json = check(dir.toString(), "--quantize", "Q8_0", "--json");
        assertTrue(json.out().contains("\"rel_logit_err_bound\""), json.out());
        Run bad = check(dir.toString(), "--quantize", "Q3_K");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("unknown quantization 'Q3_K'"), bad.err());
    }

    @Test
    void bf16ProductsAreJudgedAsDistributions(@TempDir Path dir) throws IOException {
        copyTree(ConformanceTest.FIXTURES.resolve("cases/preln-tiny"), dir.resolve("cases/preln-tiny"));
        Run r = check(dir.toString(), "--compute-type", "bf16", "--threads", "1");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().matches("(?s).*  PASS main +logits +\\[3, 9, 1000\\] +20 pos  KL mean .* top-1 .*"), r.out());
        assertTrue(r.out().contains("bf16 products in prompts"), r.out());
        assertTrue(r.out().contains("  SKIPPED main/loss: not compared with quantized weights or bf16 products"), r.out());
        Run bad = check(dir.toString(), "--compute-type", "fp8");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--compute-type is f32 or bf16, not 'fp8'"), bad.err());
        Run write = check(dir.toString(), "--compute-type", "bf16", "--write-outputs", dir.resolve("out").toString());
        assertEquals(2, write.code());
    }

    @Test
    void aDeviceIsCheckedAndAnUnusableGpuIsABadUsageWithTheReason(@TempDir Path dir) throws IOException {
        withoutDecodeCases(dir);
        Run bad = check(dir.toString(), "--device", "tpu");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("a device is cpu, cuda or cuda:N, not 'tpu'"), bad.err());
        Run mixed = check(dir.toString(), "--device", "cuda:0", "--threads", "2");
        assertEquals(2, mixed.code());
        assertTrue(mixed.err().contains("cuda:0 takes neither"), mixed.err());
        Run cpu = check(dir.toString(), "--device", "cpu", "--case", "preln-tiny");
        assertEquals(0, cpu.code(), cpu.out() + cpu.err());
        Run gpu = check(dir.toString(), "--device", "cuda:0", "--case", "preln-tiny");
        if (gpu.code() != 0) { // no usable GPU here: the reason, not a result
            assertEquals(2, gpu.code(), gpu.out() + gpu.err());
            assertTrue(gpu.err().startsWith("check: cannot use cuda:0: "), gpu.err());
        } else {
            assertTrue(summary(gpu.out()).matches("\\d+ passed, 0 failed, 0 skipped"), gpu.out());
        }
    }
}
