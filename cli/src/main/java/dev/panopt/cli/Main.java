package dev.panopt.cli;

import dev.panopt.CausalLMOutput;
import dev.panopt.ForwardOptions;
import dev.panopt.Isa;
import dev.panopt.OptConfig;
import dev.panopt.OptForCausalLM;
import dev.panopt.Panopt;
import dev.panopt.Session;
import dev.panopt.SessionOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The panopt command (this version: greedy continuation of token ids and a forward timing).
 *
 * <pre>panopt [--model DIR] [--ids 2,31414,...] [--new-tokens N] [--threads N] [--isa LEVEL] [--bench-seq N]</pre>
 *
 * Without {@code --model} it runs the checkpoint bundled in the repository
 * ({@code conformance/fixtures/cases/opt125m-shape-f16}: OPT-125m's vocabulary and head size with
 * random weights, so its continuations are meaningless but deterministic).
 */
public final class Main {
    private Main() {}

    /** "</s>Hello, my dog is cute" in OPT's vocabulary. */
    static final int[] DEFAULT_PROMPT = {2, 31414, 6, 127, 2335, 16, 11962};

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Path model = null;
        int[] prompt = DEFAULT_PROMPT;
        int newTokens = 16;
        int benchSeq = 128;
        SessionOptions.Builder so = SessionOptions.builder().maxBatch(1);
        try {
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--model" -> model = Path.of(value(args, ++i, a));
                    case "--ids" -> prompt = Arrays.stream(value(args, ++i, a).split(","))
                            .map(String::trim).mapToInt(Integer::parseInt).toArray();
                    case "--new-tokens" -> newTokens = Integer.parseInt(value(args, ++i, a));
                    case "--threads" -> so.threads(Integer.parseInt(value(args, ++i, a)));
                    case "--isa" -> so.isa(Isa.valueOf(value(args, ++i, a).toUpperCase(Locale.ROOT)));
                    case "--bench-seq" -> benchSeq = Integer.parseInt(value(args, ++i, a));
                    case "-h", "--help" -> {
                        out.println("usage: panopt [--model DIR] [--ids 2,31414,...] [--new-tokens N] [--threads N]"
                                + " [--isa auto|scalar|avx2|avx512] [--bench-seq N (0 = no timing)]");
                        return 0;
                    }
                    default -> throw new IllegalArgumentException("unknown option " + a + " (see --help)");
                }
            }
            if (model == null) {
                model = bundledModel();
            }
            if (newTokens < 0 || benchSeq < 0) {
                throw new IllegalArgumentException("--new-tokens and --bench-seq must be >= 0");
            }
        } catch (NumberFormatException e) {
            err.println("panopt: not a number: " + e.getMessage());
            return 2;
        } catch (IllegalArgumentException e) {
            err.println("panopt: " + e.getMessage());
            return 2;
        }
        SessionOptions options = so.build();
        try {
            long t0 = System.nanoTime();
            try (OptForCausalLM lm = OptForCausalLM.fromPretrained(model, options)) {
                OptConfig c = lm.config();
                out.printf(Locale.ROOT, "model      %s%n", model);
                out.printf(Locale.ROOT, "config     hidden %d, layers %d, heads %d, ffn %d, vocab %d, %s%n",
                        c.hiddenSize(), c.numHiddenLayers(), c.numAttentionHeads(), c.ffnDim(), c.vocabSize(),
                        c.doLayerNormBefore() ? "pre-LN" : "post-LN");
                out.printf(Locale.ROOT, "native     %s, kernels %s%n", Panopt.nativeVersion(),
                        options.isa() == Isa.AUTO ? Panopt.bestIsa() : options.isa());
                out.printf(Locale.ROOT, "loaded in  %.1f ms%n", (System.nanoTime() - t0) / 1e6);
                greedy(lm, options, prompt, newTokens, out);
                if (benchSeq > 0) {
                    time(lm, options, benchSeq, out);
                }
            }
            return 0;
        } catch (IOException e) {
            err.println("panopt: " + e.getMessage());
            return 1;
        } catch (IllegalArgumentException | IllegalStateException | UnsupportedOperationException e) {
            err.println("panopt: " + e.getMessage());
            return 1;
        }
    }

    private static void greedy(OptForCausalLM lm, SessionOptions options, int[] prompt, int n, PrintStream out) {
        out.printf("prompt     %s%n", Arrays.toString(prompt));
        int[] produced = new int[n];
        ForwardOptions cached = ForwardOptions.builder().useCache(true).build();
        long t0 = System.nanoTime();
        try (Session s = lm.newSession(options)) {
            int[][] input = {prompt};
            int total = prompt.length;
            for (int i = 0; i < n; i++) {
                int[][] mask = {filled(total)};
                try (CausalLMOutput o = lm.forward(s, input, mask, null, cached)) {
                    float[] last = o.logits().row(0, o.logits().size(1) - 1);
                    int best = 0;
                    for (int v = 1; v < last.length; v++) {
                        if (last[v] > last[best]) {
                            best = v;
                        }
                    }
                    produced[i] = best;
                    input = new int[][] {{best}};
                    total++;
                }
            }
        }
        double ms = (System.nanoTime() - t0) / 1e6;
        out.printf(Locale.ROOT, "greedy     %s%n", Arrays.toString(produced));
        out.printf(Locale.ROOT, "           %d tokens in %.1f ms with the KV cache (prompt forward included)%n", n, ms);
    }

    private static void time(OptForCausalLM lm, SessionOptions options, int seq, PrintStream out) {
        OptConfig c = lm.config();
        if (seq > c.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("--bench-seq " + seq + " exceeds max_position_embeddings");
        }
        SplittableRandom rnd = new SplittableRandom(42);
        int[][] ids = {rnd.ints(seq, 3, Math.min(c.vocabSize(), 50265)).toArray()};
        int runs = 9;
        double[] ms = new double[runs];
        try (Session s = lm.newSession(options)) {
            for (int i = -2; i < runs; i++) {
                long t0 = System.nanoTime();
                try (CausalLMOutput o = lm.forward(s, ids, null, null, ForwardOptions.DEFAULT)) {
                    o.logits().getFlat(0);
                }
                if (i >= 0) {
                    ms[i] = (System.nanoTime() - t0) / 1e6;
                }
            }
        }
        Arrays.sort(ms);
        double median = ms[runs / 2];
        long h = c.hiddenSize();
        long p = c.wordEmbedProjDim();
        long perLayer = 4 * h * h + 2 * h * c.ffnDim();
        long matmulParams = c.numHiddenLayers() * perLayer + (long) c.vocabSize() * p
                + (c.hasProjection() ? 2 * h * p : 0);
        double gflop = 2.0 * matmulParams * seq / 1e9;
        out.printf(Locale.ROOT, "forward    1x%d, logits at every position: median %.2f ms of %d (min %.2f), "
                + "%.1f GFLOP/s%n", seq, median, runs, ms[0], gflop / (median / 1e3));
    }

    private static int[] filled(int n) {
        int[] a = new int[n];
        Arrays.fill(a, 1);
        return a;
    }

    private static Path bundledModel() {
        String home = System.getProperty("panopt.home");
        Path base = home == null ? Path.of("") : Path.of(home);
        Path p = base.resolve("conformance/fixtures/cases/opt125m-shape-f16");
        if (!Files.isDirectory(p)) {
            throw new IllegalArgumentException("bundled checkpoint not found at " + p.toAbsolutePath()
                    + "; pass --model DIR");
        }
        return p;
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return args[i];
    }
}
