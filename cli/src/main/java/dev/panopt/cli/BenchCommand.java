package dev.panopt.cli;

import dev.panopt.CausalLMOutput;
import dev.panopt.ForwardRequest;
import dev.panopt.OptConfig;
import dev.panopt.OptForCausalLM;
import dev.panopt.Session;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code panopt bench}: median latency of a forward over random ids (a quick look; JMH is in bench/). */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Time a forward (logits at every position) over random token ids.")
final class BenchCommand implements Callable<Integer> {
    @Mixin
    Common common;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--batch", description = "Rows (default: ${DEFAULT-VALUE}).")
    int batch = 1;

    @Option(names = "--seq", description = "Tokens per row (default: ${DEFAULT-VALUE}; at most the model's context).")
    int seq = 128;

    @Option(names = "--runs", description = "Timed runs after 2 warm-ups (default: ${DEFAULT-VALUE}).")
    int runs = 9;

    @Override
    public Integer call() throws Exception {
        if (batch < 1 || seq < 1 || runs < 1) {
            throw new IllegalArgumentException("--batch, --seq and --runs must be >= 1");
        }
        try (OptForCausalLM lm = OptForCausalLM.fromPretrained(common.modelDir(), common.loadOptions())) {
            OptConfig c = lm.config();
            int seq = this.seq;
            if (seq > c.maxPositionEmbeddings()) {
                seq = c.maxPositionEmbeddings();
                spec.commandLine().getErr().printf(Locale.ROOT, "(--seq %d capped at the model's context: %d positions)%n",
                        this.seq, seq);
            }
            SplittableRandom rnd = new SplittableRandom(42);
            int[][] ids = new int[batch][];
            for (int b = 0; b < batch; b++) {
                ids[b] = rnd.ints(seq, 3, Math.min(c.vocabSize(), 50265)).toArray();
            }
            double[] ms = new double[runs];
            try (Session s = lm.newSession()) {
                for (int i = -2; i < runs; i++) {
                    long t0 = System.nanoTime();
                    try (CausalLMOutput o = lm.forward(ForwardRequest.inputIds(ids).session(s).build())) {
                        o.logits().getFlat(0);
                    }
                    if (i >= 0) {
                        ms[i] = (System.nanoTime() - t0) / 1e6;
                    }
                }
            }
            Arrays.sort(ms);
            long h = c.hiddenSize();
            long p = c.wordEmbedProjDim();
            long matmul = c.numHiddenLayers() * (4 * h * h + 2 * h * c.ffnDim()) + (long) c.vocabSize() * p
                    + (c.hasProjection() ? 2 * h * p : 0);
            double gflop = 2.0 * matmul * batch * seq / 1e9;
            double median = ms[runs / 2];
            spec.commandLine().getOut().printf(Locale.ROOT,
                    "forward %dx%d: median %.2f ms of %d (min %.2f), %.1f GFLOP/s (2 x matmul params x tokens)%n",
                    batch, seq, median, runs, ms[0], gflop / (median / 1e3));
        }
        return 0;
    }
}
