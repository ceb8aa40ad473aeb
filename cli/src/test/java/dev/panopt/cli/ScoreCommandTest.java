package dev.panopt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.panopt.ContinuationScore;
import dev.panopt.OptForCausalLM;
import dev.panopt.SequenceScore;
import dev.panopt.tokenizer.OptTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code panopt score}: JSON lines that carry the API's numbers, from arguments or a file; errors name the line. */
class ScoreCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static OptForCausalLM lm;
    static OptTokenizer tok;

    @BeforeAll
    static void load() throws Exception {
        lm = OptForCausalLM.fromPretrained(Path.of(MainTest.fixture("opt125m-shape-f16")));
        tok = OptTokenizer.fromPretrained(Common.home().resolve("conformance/fixtures/tokenizer"));
    }

    @AfterAll
    static void close() {
        lm.close();
    }

    static List<JsonNode> lines(MainTest.Run r) throws Exception {
        assertEquals(0, r.code(), r.err());
        List<JsonNode> out = new java.util.ArrayList<>();
        for (String l : r.out().strip().split("\n")) {
            out.add(JSON.readTree(l));
        }
        return out;
    }

    static int[] ints(JsonNode a) {
        int[] v = new int[a.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = a.get(i).intValue();
        }
        return v;
    }

    static void assertClose(double expected, double actual, String what) {
        assertTrue(Math.abs(actual - expected) <= 2e-4 + 2e-4 * Math.abs(expected),
                () -> what + ": expected " + expected + ", got " + actual);
    }

    @Test
    void textArgumentsGiveOneLineEachWithTheApisNumbers() throws Exception {
        List<String> texts = List.of("Hello, my dog is cute", "The capital of France is Paris.");
        List<JsonNode> out = lines(MainTest.run("score", "--threads", "2", "--padding-side", "left", texts.get(0),
                texts.get(1)));
        assertEquals(2, out.size());
        for (int i = 0; i < texts.size(); i++) {
            SequenceScore want = lm.score(tok, texts.get(i));
            JsonNode n = out.get(i);
            assertEquals(texts.get(i), n.get("text").textValue());
            assertArrayEquals(want.tokenIds(), ints(n.get("token_ids")));
            assertEquals(want.numScoredTokens(), n.get("token_logprobs").size());
            for (int t = 0; t < want.numScoredTokens(); t++) {
                assertClose(want.tokenLogprobs()[t], n.get("token_logprobs").get(t).doubleValue(), "token " + t);
            }
            assertClose(want.sum(), n.get("sum").doubleValue(), "sum");
            assertClose(want.mean(), n.get("mean").doubleValue(), "mean");
            assertClose(want.perplexity(), n.get("perplexity").doubleValue(), "perplexity");
        }
        List<JsonNode> noBos = lines(MainTest.run("score", "--no-special", texts.get(0)));
        assertArrayEquals(tok.encode(texts.get(0), false), ints(noBos.get(0).get("token_ids")));
    }

    @Test
    void contextScoresEachTextAsAContinuation() throws Exception {
        List<JsonNode> out = lines(MainTest.run("score", "--context", "The capital of France is", " Paris", " a cat"));
        List<ContinuationScore> want = lm.scoreContinuations(tok, List.of("The capital of France is", "The capital of France is"),
                List.of(" Paris", " a cat"));
        for (int i = 0; i < 2; i++) {
            JsonNode n = out.get(i);
            assertEquals("The capital of France is", n.get("context").textValue());
            assertArrayEquals(want.get(i).contextIds(), ints(n.get("context_ids")));
            assertArrayEquals(want.get(i).continuationIds(), ints(n.get("continuation_ids")));
            assertClose(want.get(i).logLikelihood(), n.get("loglikelihood").doubleValue(), "loglikelihood " + i);
            assertEquals(want.get(i).isGreedy(), n.get("is_greedy").booleanValue());
        }
    }

    @Test
    void jsonLinesKeepTheirOrderAndFields(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("in.jsonl");
        Files.writeString(in, """
                {"id": 7, "text": "Once upon a time"}

                {"id": "q1-a", "context": "2 + 2 =", "continuation": " 4"}
                {"text": "Hi there", "meta": {"source": "test"}}
                """);
        List<JsonNode> out = lines(MainTest.run("score", "--input", in.toString(), "--batch-size", "1"));
        assertEquals(3, out.size());
        assertEquals(7, out.get(0).get("id").intValue());
        assertTrue(out.get(0).has("perplexity"));
        assertEquals("q1-a", out.get(1).get("id").textValue());
        assertTrue(out.get(1).has("loglikelihood") && out.get(1).has("is_greedy"));
        assertFalse(out.get(1).has("perplexity"));
        assertEquals("test", out.get(2).get("meta").get("source").textValue());
        assertClose(lm.score(tok, "Hi there").sum(), out.get(2).get("sum").doubleValue(), "sum of line 4");
    }

    @Test
    void mistakesNameTheLineOrTheFlag(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("in.jsonl");
        Files.writeString(in, "{\"text\": \"fine text\"}\n{\"text\": oops}\n");
        MainTest.assertOneLineError(MainTest.run("score", "-i", in.toString()), in + ":2: not JSON");
        Files.writeString(in, "{\"text\": \"fine text\"}\n[1]\n");
        MainTest.assertOneLineError(MainTest.run("score", "-i", in.toString()), in + ":2: a line must be a JSON object");
        Files.writeString(in, "{\"text\": \"fine text\"}\n\n{\"text\": \"Hello\"}\n");
        MainTest.assertOneLineError(MainTest.run("score", "--no-special", "-i", in.toString()),
                in + ":3: the text encodes to 1 token(s)");
        Files.writeString(in, "{\"text\": \"a\", \"context\": \"b\"}\n");
        MainTest.assertOneLineError(MainTest.run("score", "-i", in.toString()), in + ":1: give either \"text\" or");
        Files.writeString(in, "{\"context\": \"a\"}\n");
        MainTest.assertOneLineError(MainTest.run("score", "-i", in.toString()), in + ":1: \"continuation\" must be a string");
        MainTest.assertOneLineError(MainTest.run("score", "--context", "Hi", " there", ""), "TEXT 2: the continuation adds no token");
        MainTest.assertOneLineError(MainTest.run("score"), "give TEXT arguments or --input FILE");
        MainTest.assertOneLineError(MainTest.run("score", "-i", in.toString(), "text"), "give TEXT arguments or --input FILE");
        MainTest.assertOneLineError(MainTest.run("score", "-i", in.toString(), "--context", "c"), "--context goes with TEXT");
        MainTest.assertOneLineError(MainTest.run("score", "--padding-side", "up", "x y"), "--padding-side must be left or right");
        MainTest.assertOneLineError(MainTest.run("score", "--batch-size", "0", "x y"), "--batch-size must be >= 1");
        MainTest.assertOneLineError(MainTest.run("score", "-i", dir.resolve("missing.jsonl").toString()), "no such file");
    }
}
