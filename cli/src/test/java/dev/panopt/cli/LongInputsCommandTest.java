package dev.panopt.cli;

import static dev.panopt.cli.MainTest.assertOneLineError;
import static dev.panopt.cli.MainTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * --truncation / --max-length on classify and generate, and qa's windows, on the 64-position fixture
 * models with the byte-level test tokenizer (one token per character of these texts).
 */
class LongInputsCommandTest {
    static final String CASES = Common.home().resolve("conformance/fixtures/cases").toString();
    static final String TOKENIZER = Common.home().resolve("java-api/src/test/resources/dev/panopt/byte-tokenizer")
            .toString();
    static final String LONG = "xyzwvq".repeat(20);

    @Test
    void classifySaysHowToTruncateAndThenTruncates() {
        MainTest.Run r = run("classify", "--model", CASES + "/seqcls-single", "--tokenizer", TOKENIZER, "short", LONG);
        assertEquals(1, r.code());
        assertOneLineError(r, "text 2 has 121 tokens, more than the 64 the model takes for it; pass --truncation");
        MainTest.Run left = run("classify", "--model", CASES + "/seqcls-single", "--tokenizer", TOKENIZER,
                "--truncation", "left", "short", LONG);
        assertEquals(0, left.code(), left.err());
        assertEquals(2, left.out().strip().split("\n").length, left.out());
        MainTest.Run max = run("classify", "--model", CASES + "/seqcls-single", "--tokenizer", TOKENIZER,
                "--max-length", "10", LONG);
        assertEquals(0, max.code(), max.err());
        assertOneLineError(run("classify", "--model", CASES + "/seqcls-single", "--tokenizer", TOKENIZER,
                "--truncation", "middle", LONG), "--truncation must be left or right");
    }

    @Test
    void generateTruncatesPromptsToLeaveRoomForNewTokens() {
        MainTest.Run r = run("generate", "--model", CASES + "/preln-tiny", "--tokenizer", TOKENIZER, "-n", "3", LONG);
        assertEquals(1, r.code());
        assertOneLineError(r, "prompt 1 has 121 tokens, more than the 61 the model takes for it");
        assertTrue(r.out().isEmpty(), "nothing printed before the error: " + r.out());
        MainTest.Run ok = run("generate", "--model", CASES + "/preln-tiny", "--tokenizer", TOKENIZER, "-n", "3",
                "--truncation", "left", LONG);
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.err().contains("3 tokens"), ok.err());
        MainTest.Run batch = run("generate", "--model", CASES + "/preln-tiny", "--tokenizer", TOKENIZER, "-n", "3",
                "--max-length", "20", "a", LONG);
        assertEquals(0, batch.code(), batch.err());
    }

    @Test
    void qaReadsALongContextInWindows() {
        String context = "The keeper of the lighthouse was Mara. ".repeat(8);
        MainTest.Run r = run("qa", "--model", CASES + "/qa", "--tokenizer", TOKENIZER, "-q", "Who kept it?", "-c", context,
                "--doc-stride", "16", "--span-score", "logit-sum");
        assertEquals(0, r.code(), r.err());
        String[] f = r.out().strip().split("\t");
        assertEquals(3, f.length, r.out());
        String[] span = f[1].replaceAll("[\\[\\)]", "").split(", ");
        assertEquals(context.substring(Integer.parseInt(span[0]), Integer.parseInt(span[1])), f[0]);
        assertOneLineError(run("qa", "--model", CASES + "/qa", "--tokenizer", TOKENIZER, "-q", "Who?", "-c", context,
                "--max-seq-len", "65"), "max_position_embeddings");
        assertOneLineError(run("qa", "--model", CASES + "/qa", "--tokenizer", TOKENIZER, "-q", "Who?", "-c", context,
                "--span-score", "best"), "--span-score");
    }
}
