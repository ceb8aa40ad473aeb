package dev.panopt.bench;

import dev.panopt.GenerationConfig;
import dev.panopt.GenerationResult;
import dev.panopt.LoadOptions;
import dev.panopt.OptForCausalLM;
import dev.panopt.Backend;
import dev.panopt.BackendOptions;
import dev.panopt.tokenizer.OptTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * Text generation end to end on the checkpoint bundled in the repository (opt125m-shape-f16, random
 * weights) with the bundled OPT tokenizer: {@code OptForCausalLM.generate(tokenizer, prompts, config)},
 * greedy, {@code newTokens} per prompt without EOS stopping — prompt encoding, prefill, the KV-cache
 * decode loop, logits processing and streaming decode of the text included. One op = one call.
 */
public final class GenerateBench {
    private GenerateBench() {}

    @State(Scope.Thread)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
    @Warmup(iterations = 1, time = 2)
    @Measurement(iterations = 3, time = 2)
    public static class Generate {
        @Param("1") public int batch;
        @Param("2") public int threads;
        @Param("64") public int newTokens;

        Backend backend;
        OptForCausalLM lm;
        OptTokenizer tokenizer;
        List<String> prompts;
        GenerationConfig config;

        @Setup(Level.Trial)
        public void setup() throws IOException {
            Path repo = TokenizerBench.repo();
            tokenizer = OptTokenizer.fromPretrained(TokenizerBench.tokenizerDir());
            backend = Backend.create(BackendOptions.builder().threads(threads).build());
            lm = OptForCausalLM.fromPretrained(repo.resolve("conformance/fixtures/cases/opt125m-shape-f16"),
                    LoadOptions.builder().backend(backend).build());
            String[] base = {"Hello, my dog is", "The history of the Roman empire", "In a shocking finding, scientists",
                "Once upon a time there was"};
            prompts = new ArrayList<>();
            for (int i = 0; i < batch; i++) {
                prompts.add(base[i % base.length]);
            }
            config = GenerationConfig.builder().maxNewTokens(newTokens).eosTokenIds().build();
        }

        @Benchmark
        public int generate() {
            GenerationResult r = lm.generate(tokenizer, prompts, config);
            return r.tokens(0).length;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            lm.close();
            backend.close();
        }
    }
}
