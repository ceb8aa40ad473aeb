package dev.panopt.bench;

import dev.panopt.Backend;
import dev.panopt.BackendOptions;
import dev.panopt.LoadOptions;
import dev.panopt.OptForCausalLM;
import dev.panopt.ScoreOptions;
import dev.panopt.SequenceScore;
import dev.panopt.tokenizer.OptTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Scoring throughput: {@code OptForCausalLM.score(tokenizer, texts, options)} on {@code batch} texts of
 * the repository's English prose that encode to exactly {@code tokens} ids each (BOS included), one
 * forward batch per call — encoding, the forward with the LM head at every position, and the
 * log-softmax of every scored token. One op = one call; it scores {@code batch × (tokens − 1)} tokens.
 * {@code model} is a {@link ModelShape} with the bundled OPT tokenizer's vocabulary (not {@code tiny}),
 * or {@code bundled}: the repository's opt125m-shape-f16 checkpoint (the smoke pass).
 */
public final class ScoreBench {
    private ScoreBench() {}

    @State(Scope.Thread)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
    @Warmup(iterations = 1, time = 2)
    @Measurement(iterations = 3, time = 2)
    public static class Score {
        @Param("opt-125m") public String model;
        @Param("F16") public String format;
        @Param("8") public int batch;
        @Param("2") public int threads;
        @Param("128") public int tokens;

        Backend backend;
        OptForCausalLM lm;
        OptTokenizer tokenizer;
        List<String> texts;
        ScoreOptions options;

        @Setup(Level.Trial)
        public void setup() throws IOException {
            tokenizer = OptTokenizer.fromPretrained(TokenizerBench.tokenizerDir());
            Path dir = model.equals("bundled") ? TokenizerBench.repo().resolve("conformance/fixtures/cases/opt125m-shape-f16")
                    : Checkpoints.opt(ModelShape.of(model), format);
            backend = Backend.create(BackendOptions.builder().threads(threads).build());
            lm = OptForCausalLM.fromPretrained(dir, LoadOptions.builder().backend(backend).build());
            texts = texts(tokenizer, batch, tokens);
            options = ScoreOptions.builder().batchSize(batch).build();
        }

        @Benchmark
        public double score() {
            List<SequenceScore> s = lm.score(tokenizer, texts, options);
            return s.get(s.size() - 1).sum();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            lm.close();
            backend.close();
        }
    }

    /**
     * {@code n} different passages of the repository's prose, each encoding to exactly {@code tokens}
     * ids with the BOS (a window of ids decoded, kept when it re-encodes to its own length).
     */
    static List<String> texts(OptTokenizer tok, int n, int tokens) {
        int[] prose = tok.encode(TokenizerBench.english(), false);
        if (prose.length < n * (tokens + 64)) {
            throw new IllegalStateException("the repository's prose has " + prose.length + " tokens; " + n + " texts of "
                    + tokens + " need more");
        }
        List<String> out = new ArrayList<>(n);
        int stride = (prose.length - tokens) / n;
        for (int i = 0; i < n; i++) {
            String text = null;
            for (int start = i * stride; text == null && start < (i + 1) * stride; start++) {
                String t = tok.decode(Arrays.copyOfRange(prose, start, start + tokens - 1), false, false);
                if (tok.encode(t).length == tokens) {
                    text = t;
                }
            }
            if (text == null) {
                throw new IllegalStateException("no passage of " + tokens + " tokens in part " + i + " of the prose");
            }
            out.add(text);
        }
        return out;
    }
}
