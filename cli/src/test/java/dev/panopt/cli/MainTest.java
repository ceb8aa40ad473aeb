package dev.panopt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.Isa;
import dev.panopt.Panopt;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI's contract: user mistakes are one line and a non-zero exit, never a stack trace. */
class MainTest {
    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        return run(System.getenv(), args);
    }

    static Run run(Map<String, String> environment, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true), environment);
        return new Run(code, out.toString(), err.toString());
    }

    static void assertOneLineError(Run r, String contains) {
        assertTrue(r.code() != 0, "exit code " + r.code());
        assertFalse(r.err().contains("\tat "), "stack trace printed:\n" + r.err());
        assertFalse(r.err().contains("Exception"), "exception name printed:\n" + r.err());
        assertTrue(r.err().contains(contains), r.err());
    }

    @Test
    void badFlagIsAUsageError() {
        Run r = run("generate", "--bogus", "x");
        assertEquals(2, r.code());
        assertOneLineError(r, "Unknown option: '--bogus'");
    }

    @Test
    void missingModelDirectory() {
        Run r = run("info", "--model", "/nonexistent/opt");
        assertEquals(1, r.code());
        assertOneLineError(r, "model directory not found: /nonexistent/opt");
    }

    @Test
    void aHubModelIdIsTakenFromTheHuggingFaceCache(@TempDir Path tmp) throws Exception {
        // The cache as huggingface_hub leaves it: blobs named by ETag (git blob id, or SHA-256 for LFS files),
        // snapshots/<commit>/<file> relative symlinks to them, refs/main naming the commit.
        String commit = "0123456789abcdef0123456789abcdef01234567";
        Path repo = tmp.resolve("hub/models--panopt-test--preln-tiny");
        Path snapshot = Files.createDirectories(repo.resolve("snapshots").resolve(commit));
        Files.createDirectories(repo.resolve("blobs"));
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("refs/main"), commit);
        for (String f : List.of("config.json", "model.safetensors")) {
            byte[] b = Files.readAllBytes(Path.of(fixture("preln-tiny"), f));
            MessageDigest md = MessageDigest.getInstance(f.endsWith(".json") ? "SHA-1" : "SHA-256");
            if (f.endsWith(".json")) {
                md.update(("blob " + b.length + "\0").getBytes(StandardCharsets.US_ASCII));
            }
            String etag = HexFormat.of().formatHex(md.digest(b));
            Files.write(repo.resolve("blobs").resolve(etag), b);
            Files.createSymbolicLink(snapshot.resolve(f), Path.of("../../blobs/" + etag));
        }
        Map<String, String> env = Map.of("HF_HUB_CACHE", tmp.resolve("hub").toString(), "HF_HUB_OFFLINE", "1");
        Run r = run(env, "info", "--model", "panopt-test/preln-tiny");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("checkpoint   " + snapshot), r.out());
        assertTrue(r.out().contains("vocab        1000"), r.out());
        assertEquals(0, run(env, "info", "--model", "panopt-test/preln-tiny@" + commit).code());

        assertOneLineError(run(env, "info", "--model", "panopt-test/other"),
                "panopt-test/other: config.json is not in the cache " + tmp.resolve("hub"));
        assertOneLineError(run(Map.of("HF_HUB_ETAG_TIMEOUT", "soon"), "info", "--model", "panopt-test/other"),
                "HF_HUB_ETAG_TIMEOUT must be a positive whole number of seconds");
    }

    @Test
    void directoryWithoutACheckpoint(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"opt\"}");
        Run r = run("generate", "--model", dir.toString(), "--tokenizer",
                Common.home().resolve("conformance/fixtures/tokenizer").toString(), "hi");
        assertEquals(1, r.code());
        assertOneLineError(r, dir.toString());
    }

    @Test
    void malformedConfig(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": \"big\"");
        Run r = run("info", "--model", dir.toString());
        assertOneLineError(r, "config.json");
    }

    @Test
    void badNumbersAndMissingArguments() {
        assertOneLineError(run("generate", "-n", "many", "hi"), "'many'");
        assertOneLineError(run("generate"), "Missing required parameter");
        assertOneLineError(run("qa", "--question", "who"), "--context");
        assertOneLineError(run("generate", "--isa", "mmx", "hi"), "--isa");
        assertOneLineError(run("generate", "--device", "tpu", "hi"), "a device is cpu, cuda or cuda:N, not 'tpu'");
        assertOneLineError(run("generate", "--device", "cuda:0", "--threads", "2", "hi"),
                "--threads and --isa set the CPU kernels; they do not apply to --device cuda:0");
        assertOneLineError(run("tokenize", "--decode", "1,x"), "comma-separated");
        assertOneLineError(run("generate", "--compute-type", "fp8", "hi"), "--compute-type is f32 or bf16, not 'fp8'");
    }

    @Test
    void generatesFromTheBundledCheckpoint() {
        Run r = run("generate", "-n", "5", "--threads", "2", "Hello, my dog is");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("Hello, my dog is"), r.out());
        assertTrue(r.err().contains("5 tokens"), r.err());
    }

    @Test
    void generatesWithBf16Compute() {
        Run r = run("generate", "-n", "3", "--threads", "2", "--compute-type", "bf16", "Hello, my dog is");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("Hello, my dog is"), r.out());
    }

    @Test
    void tokenizeAndInfo() {
        Run t = run("tokenize", "Hello world!");
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().contains("[2, 31414, 232, 328]"), t.out());
        Run d = run("tokenize", "--decode", "2,31414,232,328");
        assertEquals("</s>Hello world!", d.out().strip());
        Run i = run("info");
        assertEquals(0, i.code(), i.err());
        assertTrue(i.out().contains("parameters   14,974,464"), i.out());
    }

    @Test
    void quantizeOnEveryModelCommandAndInfoListsTheFormats() {
        Run g = run("generate", "-n", "3", "--threads", "2", "--quantize", "q8_0", "Hello");
        assertEquals(0, g.code(), g.err());
        assertTrue(g.out().startsWith("Hello"), g.out());
        Run i = run("info", "--model", fixture("preln-tiny"), "--quantize", "Q4_K_M");
        assertEquals(0, i.code(), i.err());
        assertTrue(i.out().contains("Q4_K_M 0.2 MB of weights (from 0.7 MB;"), i.out());
        assertTrue(i.out().contains("fallbacks    11 (below)"), i.out());
        assertTrue(i.out().matches("(?s).*decoder\\.layers\\.1\\.fc2\\.weight +\\[64,256\\] +FC2 +F32 +-> Q6_K .*"), i.out());
        assertTrue(i.out().contains("(fallback: row length 64 is not a multiple of Q4_K's 256-element blocks: Q5_0)"), i.out());
        assertOneLineError(run("info", "--quantize", "Q2_K"), "unknown quantization 'Q2_K'; one of NONE, F32");
        // Q8_0 matrices go into the CPU's 8-row groups where it has the kernels, unless --no-repack
        Run q8 = run("info", "--model", fixture("preln-tiny"), "--quantize", "Q8_0");
        assertEquals(0, q8.code(), q8.err());
        boolean grouping = Panopt.bestIsa() != Isa.SCALAR;
        assertTrue(q8.out().contains(grouping ? "repacked     13 tensors" : "repacked     none"), q8.out());
        Run kept = run("info", "--model", fixture("preln-tiny"), "--quantize", "Q8_0", "--no-repack");
        assertEquals(0, kept.code(), kept.err());
        assertTrue(kept.out().contains("repacked     none"), kept.out());
    }

    static String fixture(String name) {
        return Common.home().resolve("conformance/fixtures/cases").resolve(name).toString();
    }

    @Test
    void aTokenizerThatDoesNotMatchTheModelIsNamedWithBothFilesAndSizes() {
        for (Run r : new Run[] {run("classify", "--model", fixture("seqcls-single"), "a text"),
                run("qa", "--model", fixture("qa"), "-q", "which?", "-c", "the first one")}) {
            assertEquals(1, r.code(), r.err());
            assertOneLineError(r, "the tokenizer and the model do not match");
            assertTrue(r.err().contains("conformance/fixtures/tokenizer/vocab.json has 50265 tokens"), r.err());
            assertTrue(r.err().contains("config.json has vocab_size 1000"), r.err());
        }
    }

    @Test
    void generateValidatesBeforeEchoingThePrompt() {
        Run r = run("generate", "-n", "3000", "Hi");
        assertEquals(1, r.code());
        assertEquals("", r.out(), "nothing on stdout before the error");
        assertOneLineError(r, "max_position_embeddings 2048");
    }

    @Test
    void samplingOptionsWithoutSampleWarnAsHfDoes() {
        Run r = run("generate", "-n", "2", "--temperature", "0.7", "--seed", "3", "Hi");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("warning: --temperature, --seed are only used when sampling; add --sample"), r.err());
        Run quiet = run("generate", "-n", "2", "--sample", "--temperature", "0.7", "--seed", "3", "Hi");
        assertEquals(0, quiet.code(), quiet.err());
        assertFalse(quiet.err().contains("warning"), quiet.err());
    }

    @Test
    void deviceCudaComputesThereOrSaysWhatIsMissing() {
        Run r = run("generate", "-n", "2", "--device", "cuda", "Hi");
        if (r.code() == 0) { // a machine with a usable GPU
            assertFalse(r.out().isBlank(), r.err());
            return;
        }
        assertOneLineError(r, "cannot use cuda:0: ");
        assertTrue(r.err().contains("no CUDA driver") || r.err().contains("no CUDA device")
                || r.err().contains("no CUDA backend") || r.err().contains("compute capability")
                || r.err().contains("driver is too old"), r.err());
        assertEquals(0, run("generate", "-n", "2", "--device", "cpu", "Hi").code());
    }

    @Test
    void threadsZeroMeansAllCpusAsInTheApi() {
        Run r = run("generate", "-n", "2", "--threads", "0", "Hi");
        assertEquals(0, r.code(), r.err());
        assertOneLineError(run("generate", "--threads", "-1", "Hi"), "--threads must be >= 0 (0 = all CPUs)");
    }

    @Test
    void benchCapsPositionsAtTheModelsContextAndSaysSo() {
        Run r = run("bench", "--model", fixture("preln-tiny"), "--runs", "1", "--threads", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("--seq 128 capped at the model's context: 64 positions"), r.err());
        assertTrue(r.out().startsWith("forward 1x64:"), r.out());
    }

    @Test
    void helpDescribesEveryArgument() {
        Run c = run("classify", "--help");
        assertTrue(c.out().matches("(?s).*TEXT\\.\\.\\.\\s+Text\\(s\\) to classify.*"), c.out());
        Run q = run("qa", "--help");
        assertTrue(q.out().matches("(?s).*-q, --question=QUESTION\\s+The question\\..*"), q.out());
        assertTrue(q.out().matches("(?s).*-c, --context=CONTEXT\\s+The text the answer is extracted from.*"), q.out());
    }

    @Test
    void convertWritesOneGgufFileThatEveryCommandTakes(@TempDir Path dir) {
        Path gguf = dir.resolve("bundled-f16.gguf");
        Run c = run("convert", "--format", "f16", "--out", gguf.toString());
        assertEquals(0, c.code(), c.err());
        assertTrue(c.out().startsWith("wrote " + gguf + ": F16, "), c.out());
        Run i = run("info", "--model", gguf.toString());
        assertEquals(0, i.code(), i.err());
        assertTrue(i.out().startsWith("GGUF         v3, alignment 32"), i.out());
        assertTrue(i.out().matches("(?s).*general\\.architecture\\s+STRING\\s+\"opt\".*"), i.out());
        assertTrue(i.out().matches("(?s).*tokenizer\\.ggml\\.tokens\\s+ARRAY\\[STRING\\] x50265\\s+\"<s>\", \"<pad>\".*"),
                i.out());
        assertTrue(i.out().matches("(?s).*blk\\.1\\.ffn_down\\.weight\\s+F16\\s+\\[256, 1024\\].*"), i.out());
        assertTrue(i.out().contains("parameters   14,974,464"), i.out());
        Run fromDir = run("generate", "-n", "4", "Hello, my dog is");
        Run fromGguf = run("generate", "--model", gguf.toString(), "-n", "4", "Hello, my dog is");
        assertEquals(0, fromGguf.code(), fromGguf.err());
        assertEquals(fromDir.out(), fromGguf.out(), "the same text, with the tokenizer inside the file");
        Run t = run("tokenize", "--model", gguf.toString(), "Hello world!");
        assertTrue(t.out().contains("[2, 31414, 232, 328]"), t.out());
    }

    @Test
    void convertTakesPresetsAndBlockFormats(@TempDir Path dir) {
        Path mix = dir.resolve("q4km.gguf");
        Run c = run("convert", "-f", "q4_k_m", "-o", mix.toString());
        assertEquals(0, c.code(), c.err());
        assertTrue(c.out().contains("Q4_K_M") && c.out().contains("Q4_K=") && c.out().contains("Q6_K="), c.out());
        Run i = run("info", "--model", mix.toString());
        assertTrue(i.out().matches("(?s).*general\\.file_type\\s+UINT32\\s+15\n.*"), i.out());
        assertTrue(i.out().matches("(?s).*blk\\.0\\.attn_q\\.weight\\s+Q4_K\\s.*"), i.out());
        assertEquals(0, run("generate", "--model", mix.toString(), "-n", "2", "Hi").code());
        Path q5k = dir.resolve("q5k.gguf");
        Run k = run("convert", "-f", "Q5_K", "-o", q5k.toString());
        assertEquals(0, k.code(), k.err());
        assertTrue(k.out().contains("Q5_K="), k.out());
        assertOneLineError(run("convert", "-f", "F16", "--quantize", "Q8_0", "-o", q5k.toString()), "--quantize");
    }

    @Test
    void convertWithoutATokenizer(@TempDir Path dir) {
        Path gguf = dir.resolve("tiny.gguf");
        assertOneLineError(run("convert", "--model", fixture("preln-tiny"), "-f", "F32", "-o", gguf.toString()),
                "the tokenizer has 50265 tokens, the model's vocab_size is 1000");
        Run c = run("convert", "--model", fixture("preln-tiny"), "-f", "F32", "-o", gguf.toString(), "--no-tokenizer");
        assertEquals(0, c.code(), c.err());
        Run b = run("bench", "--model", gguf.toString(), "--runs", "1", "--threads", "1");
        assertEquals(0, b.code(), b.err());
    }

    @Test
    void convertNeedsAFormatItKnowsAndAnOutput(@TempDir Path dir) {
        assertOneLineError(run("convert", "--format", "Q9_Z", "--out", dir.resolve("x.gguf").toString()), "--format");
        assertEquals(2, run("convert", "--format", "F16").code());
    }

    @Test
    void versionNamesTheBuild() {
        Run r = run("-V");
        assertEquals(0, r.code(), r.err());
        String first = r.out().lines().findFirst().orElse("");
        assertTrue(first.matches("panopt \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?"), r.out());
        assertTrue(r.out().contains("libpanopt "), r.out());
    }
}
