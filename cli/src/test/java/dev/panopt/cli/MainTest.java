package dev.panopt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI's contract: user mistakes are one line and a non-zero exit, never a stack trace. */
class MainTest {
    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
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
    }

    @Test
    void generatesFromTheBundledCheckpoint() {
        Run r = run("generate", "-n", "5", "--threads", "2", "Hello, my dog is");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("Hello, my dog is"), r.out());
        assertTrue(r.err().contains("5 tokens"), r.err());
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
    void versionNamesTheBuild() {
        Run r = run("-V");
        assertEquals(0, r.code(), r.err());
        String first = r.out().lines().findFirst().orElse("");
        assertTrue(first.matches("panopt \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?"), r.out());
        assertTrue(r.out().contains("libpanopt "), r.out());
    }
}
