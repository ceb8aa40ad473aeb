package dev.panopt;

import dev.panopt.tokenizer.OptTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The scoring helpers of {@link OptForCausalLM}: text encodings, length-sorted padded batches, and
 * each target token's log-softmax read from the logits of the position before it. Stateless.
 *
 * <p>A row {@code ids} is run as {@code ids[0 .. n-1)}: the last token is only ever a target, so its
 * logits are not computed (as lm-evaluation-harness feeds {@code (context + continuation)[:-1]}).
 * Causal attention makes every kept position's logits those of the full row.
 */
final class Scoring {
    private Scoring() {}

    /** The log-probabilities of {@code ids[from..]} of one row and whether each was the argmax. */
    private record RowScores(double[] logprobs, boolean greedy) {}

    static List<SequenceScore> score(OptForCausalLM lm, OptTokenizer tokenizer, List<String> texts, ScoreOptions o) {
        Objects.requireNonNull(tokenizer, "tokenizer");
        Objects.requireNonNull(texts, "texts");
        Objects.requireNonNull(o, "options");
        lm.checkTokenizer(tokenizer);
        List<int[]> rows = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            int[] ids = tokenizer.encode(Objects.requireNonNull(texts.get(i), "texts[" + i + "]"), o.addSpecialTokens());
            if (ids.length < 2) {
                throw new IllegalArgumentException("texts[" + i + "] encodes to " + ids.length + " token(s); scoring needs "
                        + "at least 2, the first having no log-probability" + (o.addSpecialTokens() ? ""
                        : " (addSpecialTokens(true) puts the BOS first)"));
            }
            rows.add(ids);
        }
        return sequences(lm, rows, o, "texts");
    }

    static List<SequenceScore> scoreIds(OptForCausalLM lm, int[][] tokenIds, ScoreOptions o) {
        Objects.requireNonNull(tokenIds, "tokenIds");
        Objects.requireNonNull(o, "options");
        List<int[]> rows = new ArrayList<>(tokenIds.length);
        for (int i = 0; i < tokenIds.length; i++) {
            int[] r = Objects.requireNonNull(tokenIds[i], "tokenIds[" + i + "]");
            if (r.length < 2) {
                throw new IllegalArgumentException("tokenIds[" + i + "] has " + r.length + " id(s); scoring needs at "
                        + "least 2, the first having no log-probability");
            }
            checkIds(lm.config(), "tokenIds[" + i + "]", r);
            rows.add(r.clone());
        }
        return sequences(lm, rows, o, "tokenIds");
    }

    private static List<SequenceScore> sequences(OptForCausalLM lm, List<int[]> rows, ScoreOptions o, String what) {
        int[] from = new int[rows.size()];
        Arrays.fill(from, 1);
        RowScores[] r = run(lm, rows, from, o, what);
        List<SequenceScore> out = new ArrayList<>(rows.size());
        for (int i = 0; i < r.length; i++) {
            double[] lp = r[i].logprobs();
            double mean = sum(lp) / lp.length;
            out.add(new SequenceScore(rows.get(i), floats(lp), sum(lp), mean, Math.exp(-mean)));
        }
        return List.copyOf(out);
    }

    static List<ContinuationScore> continuations(OptForCausalLM lm, OptTokenizer tokenizer, List<String> contexts,
                                                 List<String> continuations, ScoreOptions o) {
        Objects.requireNonNull(tokenizer, "tokenizer");
        Objects.requireNonNull(contexts, "contexts");
        Objects.requireNonNull(continuations, "continuations");
        Objects.requireNonNull(o, "options");
        lm.checkTokenizer(tokenizer);
        if (contexts.size() != continuations.size()) {
            throw new IllegalArgumentException(contexts.size() + " contexts but " + continuations.size()
                    + " continuations; they go in pairs");
        }
        int[][] ctx = new int[contexts.size()][];
        int[][] cont = new int[contexts.size()][];
        for (int i = 0; i < ctx.length; i++) {
            int[][] pair = encodePair(tokenizer, Objects.requireNonNull(contexts.get(i), "contexts[" + i + "]"),
                    Objects.requireNonNull(continuations.get(i), "continuations[" + i + "]"), o.addSpecialTokens());
            if (pair[1].length == 0) {
                throw new IllegalArgumentException("continuations[" + i + "] adds no token to its context");
            }
            ctx[i] = pair[0];
            cont[i] = pair[1];
        }
        return pairs(lm, ctx, cont, o, "continuations");
    }

    static List<ContinuationScore> continuationIds(OptForCausalLM lm, int[][] contextIds, int[][] continuationIds,
                                                   ScoreOptions o) {
        Objects.requireNonNull(contextIds, "contextIds");
        Objects.requireNonNull(continuationIds, "continuationIds");
        Objects.requireNonNull(o, "options");
        if (contextIds.length != continuationIds.length) {
            throw new IllegalArgumentException(contextIds.length + " contexts but " + continuationIds.length
                    + " continuations; they go in pairs");
        }
        int[][] ctx = new int[contextIds.length][];
        int[][] cont = new int[contextIds.length][];
        for (int i = 0; i < ctx.length; i++) {
            ctx[i] = Objects.requireNonNull(contextIds[i], "contextIds[" + i + "]").clone();
            cont[i] = Objects.requireNonNull(continuationIds[i], "continuationIds[" + i + "]").clone();
            if (ctx[i].length == 0 || cont[i].length == 0) {
                throw new IllegalArgumentException((ctx[i].length == 0 ? "contextIds[" : "continuationIds[") + i
                        + "] is empty; a context needs at least one id (e.g. the BOS) and a continuation too");
            }
            checkIds(lm.config(), "contextIds[" + i + "]", ctx[i]);
            checkIds(lm.config(), "continuationIds[" + i + "]", cont[i]);
        }
        return pairs(lm, ctx, cont, o, "continuations");
    }

    private static List<ContinuationScore> pairs(OptForCausalLM lm, int[][] ctx, int[][] cont, ScoreOptions o,
                                                 String what) {
        List<int[]> rows = new ArrayList<>(ctx.length);
        int[] from = new int[ctx.length];
        for (int i = 0; i < ctx.length; i++) {
            int[] row = Arrays.copyOf(ctx[i], ctx[i].length + cont[i].length);
            System.arraycopy(cont[i], 0, row, ctx[i].length, cont[i].length);
            rows.add(row);
            from[i] = ctx[i].length;
        }
        RowScores[] r = run(lm, rows, from, o, what);
        List<ContinuationScore> out = new ArrayList<>(ctx.length);
        for (int i = 0; i < r.length; i++) {
            double[] lp = r[i].logprobs();
            out.add(new ContinuationScore(ctx[i], cont[i], floats(lp), sum(lp), r[i].greedy()));
        }
        return List.copyOf(out);
    }

    /**
     * lm-evaluation-harness's encoding of a (context, continuation) pair: trailing whitespace of the
     * context moves to the continuation; the continuation's ids are those of {@code context +
     * continuation} after as many ids as the context alone has (so a BPE merge across the boundary
     * goes to the continuation); an empty context is the BOS alone.
     */
    static int[][] encodePair(OptTokenizer tok, String context, String continuation, boolean addSpecialTokens) {
        if (context.isEmpty()) {
            return new int[][] {{tok.bosTokenId()}, tok.encode(continuation, false)};
        }
        int cut = context.length();
        while (cut > 0 && isPythonSpace(context.charAt(cut - 1))) {
            cut--;
        }
        String ctxText = context.substring(0, cut);
        int[] whole = tok.encode(context + continuation, addSpecialTokens);
        int[] ctx = tok.encode(ctxText, addSpecialTokens);
        int[] cont = Arrays.copyOfRange(whole, Math.min(ctx.length, whole.length), whole.length);
        return new int[][] {ctx.length == 0 ? new int[] {tok.bosTokenId()} : ctx, cont};
    }

    /** Python's {@code str.isspace} for one UTF-16 unit (what {@code rstrip()} removes). */
    static boolean isPythonSpace(char ch) {
        return Character.isWhitespace(ch) || Character.isSpaceChar(ch) || ch == '\u0085';
    }

    private static void checkIds(OptConfig c, String what, int[] ids) {
        for (int t = 0; t < ids.length; t++) {
            if (ids[t] < 0 || ids[t] >= c.vocabSize()) {
                throw new IllegalArgumentException(what + "[" + t + "] = " + ids[t] + " is outside the vocabulary [0, "
                        + c.vocabSize() + ")");
            }
        }
    }

    /** Scores {@code rows.get(i)[from[i]..]} of every row, {@code o.batchSize()} rows per forward. */
    private static RowScores[] run(OptForCausalLM lm, List<int[]> rows, int[] from, ScoreOptions o, String what) {
        OptConfig c = lm.config();
        int[] inputLengths = new int[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            inputLengths[i] = rows.get(i).length - 1;
            if (inputLengths[i] > c.maxPositionEmbeddings()) {
                throw new IllegalArgumentException(what + "[" + i + "] has " + rows.get(i).length + " tokens; at most "
                        + "max_position_embeddings + 1 = " + (c.maxPositionEmbeddings() + 1) + " can be scored");
            }
        }
        int vocab = c.vocabSize();
        int pad = PaddedBatch.padId(c);
        float[] v = new float[vocab];
        RowScores[] out = new RowScores[rows.size()];
        for (int[] group : PaddedBatch.groups(inputLengths, o.batchSize())) {
            List<int[]> inputs = new ArrayList<>(group.length);
            for (int i : group) {
                inputs.add(Arrays.copyOf(rows.get(i), inputLengths[i]));
            }
            PaddedBatch b = PaddedBatch.of(inputs, pad, o.paddingSide());
            int width = b.inputIds()[0].length;
            try (CausalLMOutput res = lm.forward(b.inputIds(), b.attentionMask())) {
                FloatTensor logits = res.logits();
                for (int k = 0; k < group.length; k++) {
                    int[] ids = rows.get(group[k]);
                    int f = from[group[k]];
                    double[] lp = new double[ids.length - f];
                    boolean greedy = true;
                    for (int t = f; t < ids.length; t++) {
                        // Token t is predicted by the logits of position t - 1.
                        logits.copyTo(((long) k * width + b.offsets()[k] + t - 1) * vocab, v);
                        lp[t - f] = v[ids[t]] - Losses.logSumExp(v);
                        greedy &= LogitsWarping.argmax(v) == ids[t];
                    }
                    out[group[k]] = new RowScores(lp, greedy);
                }
            }
        }
        return out;
    }

    private static double sum(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s;
    }

    private static float[] floats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }
}
