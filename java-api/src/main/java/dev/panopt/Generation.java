package dev.panopt;

import dev.panopt.tokenizer.OptTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalDouble;
import java.util.SplittableRandom;

/**
 * Greedy search and sampling as a step machine: the first step runs the prompts, each later step
 * feeds one token per row through the session's KV cache (HF's loop). With
 * {@code num_return_sequences} n, each prompt's cache is copied to n rows after the prompt step
 * (HF runs the prompt n times; the rows are the same). Rows finish independently; finished rows
 * keep feeding the pad token, attended, as HF does, until every row is done. Not thread-safe;
 * owns its session.
 */
final class Generation implements Decoder {
    private static final ForwardOptions CACHED = ForwardOptions.builder().useCache(true).build();

    private final GenerationInputs in;
    private final GenerationConfig cfg;
    private final Session session;
    private final int copies;     // num_return_sequences: rows per prompt
    private final int rows;
    private final SplittableRandom rnd;
    private int[][] mask;
    private final int[][] seq;    // real prompt tokens + new tokens, per row
    private final int[] seqLen;
    private final int[] produced;
    private final FinishReason[] reasons;
    private final OptTokenizer.StreamDecoder[] decoders;
    private final StringBuilder[] texts;
    private final double[][] logprobs;                  // per row, per new token (when asked for)
    private final List<List<List<TokenLogprob>>> tops;  // per row, per new token (when asked for)
    private final List<List<float[]>> scores;           // per row, per new token (output_scores)
    private final List<List<float[]>> logits;           // per row, per new token (output_logits)
    private int[] lastTokens;
    private boolean started;
    private int unfinished;
    private volatile boolean cancelRequested;

    Generation(GenerationInputs in, SessionOptions sessionOptions) {
        this.in = in;
        this.cfg = in.cfg;
        this.copies = cfg.numReturnSequences();
        this.rows = in.batch * copies;
        this.rnd = new SplittableRandom(cfg.seed().orElseGet(() -> new SplittableRandom().nextLong()));
        this.mask = in.mask;
        this.seq = new int[rows][in.totalLength()];
        this.seqLen = new int[rows];
        for (int r = 0; r < rows; r++) {
            int[] p = in.realTokens[r / copies];
            System.arraycopy(p, 0, seq[r], 0, p.length);
            seqLen[r] = p.length;
        }
        this.produced = new int[rows];
        this.reasons = new FinishReason[rows];
        this.unfinished = rows;
        this.texts = new StringBuilder[rows];
        this.decoders = new OptTokenizer.StreamDecoder[rows];
        this.logprobs = new double[rows][cfg.logprobs() ? cfg.maxNewTokens() : 0];
        this.tops = new ArrayList<>(rows);
        this.scores = new ArrayList<>(rows);
        this.logits = new ArrayList<>(rows);
        for (int r = 0; r < rows; r++) {
            texts[r] = new StringBuilder();
            decoders[r] = in.newTextDecoder();
            tops.add(new ArrayList<>());
            scores.add(new ArrayList<>());
            logits.add(new ArrayList<>());
        }
        this.session = in.lm.newSession(sessionOptions.toBuilder().maxBatch(rows).maxSequenceLength(in.totalLength())
                .build());
    }

    @Override
    public boolean isDone() {
        return unfinished == 0;
    }

    @Override
    public void cancel() {
        cancelRequested = true;
    }

    /** Ends every unfinished row as {@link FinishReason#CANCELLED}. */
    private void cancelRows() {
        for (int r = 0; r < rows; r++) {
            if (reasons[r] == null) {
                if (decoders[r] != null) {
                    texts[r].append(decoders[r].finish());
                }
                reasons[r] = FinishReason.CANCELLED;
            }
        }
        unfinished = 0;
    }

    @Override
    public List<GeneratedToken> step() {
        if (isDone()) {
            return List.of();
        }
        if (cancelRequested || Thread.currentThread().isInterrupted()) {
            cancelRows();
            return List.of();
        }
        CausalLMOutput out;
        boolean first = !started;
        if (first) {
            out = in.lm.forwardLast(session, in.prompt, mask, CACHED);
            started = true;
            if (copies > 1) {
                expand();
            }
        } else {
            int[][] next = new int[rows][1];
            for (int r = 0; r < rows; r++) {
                next[r][0] = reasons[r] == null ? lastTokens[r] : in.pad;
            }
            mask = extend(mask);
            out = in.lm.forwardLast(session, next, mask, CACHED);
        }
        List<GeneratedToken> step = new ArrayList<>(unfinished);
        lastTokens = new int[rows];
        try (out) {
            int vocab = (int) out.logits().size(1);
            float[] reused = cfg.outputScores() ? null : new float[vocab]; // kept scores need their own arrays
            for (int r = 0; r < rows; r++) {
                if (reasons[r] != null) {
                    continue;
                }
                float[] s = reused != null ? reused : new float[vocab];
                out.logits().copyTo((long) (first ? r / copies : r) * vocab, s);
                int token = choose(r, s);
                lastTokens[r] = token;
                step.add(accept(r, token));
            }
        }
        return step;
    }

    /** Copies each prompt's cache and mask row to its {@code copies} rows. */
    private void expand() {
        int[] src = new int[rows];
        int[][] m = new int[rows][];
        for (int r = 0; r < rows; r++) {
            src[r] = r / copies;
            m[r] = mask[r / copies];
        }
        session.reorderCache(src);
        mask = m;
    }

    /** Processes row r's logits {@code s} (in place), picks its token and records what was asked for. */
    private int choose(int r, float[] s) {
        if (cfg.outputLogits()) {
            logits.get(r).add(s.clone());
        }
        in.pipeline.process(seq[r], seqLen[r], produced[r], s);
        int token;
        if (cfg.doSample()) {
            in.pipeline.warp(s);
            token = LogitsWarping.sample(s, rnd);
        } else {
            token = LogitsWarping.argmax(s);
        }
        if (cfg.logprobs()) {
            double lse = Logprobs.logSumExp(s);
            logprobs[r][produced[r]] = s[token] - lse;
            tops.get(r).add(Logprobs.top(s, cfg.topLogprobs(), lse));
        }
        if (cfg.outputScores()) {
            scores.get(r).add(s);
        }
        return token;
    }

    private GeneratedToken accept(int r, int token) {
        int index = produced[r]++;
        seq[r][seqLen[r]++] = token;
        String delta = in.push(decoders[r], token);
        FinishReason reason = in.endOf(token);
        if (reason == null) {
            reason = produced[r] >= cfg.maxNewTokens() ? FinishReason.MAX_NEW_TOKENS : FinishReason.UNFINISHED;
        }
        texts[r].append(delta);
        if (reason == FinishReason.UNFINISHED && !cfg.stopStrings().isEmpty()) {
            int from = Math.max(0, texts[r].length() - delta.length() - longestStop());
            for (String s : cfg.stopStrings()) {
                if (texts[r].indexOf(s, from) >= 0) {
                    reason = FinishReason.STOP_STRING;
                    break;
                }
            }
        }
        if (reason != FinishReason.UNFINISHED) {
            if (decoders[r] != null) {
                String tail = decoders[r].finish();
                texts[r].append(tail);
                delta += tail;
            }
            reasons[r] = reason;
            unfinished--;
        }
        boolean lp = cfg.logprobs();
        return new GeneratedToken(r, index, token, delta, reason, lp ? logprobs[r][index] : Double.NaN,
                cfg.topLogprobs() > 0 ? tops.get(r).get(index) : List.of());
    }

    private int longestStop() {
        int m = 0;
        for (String s : cfg.stopStrings()) {
            m = Math.max(m, s.length());
        }
        return m;
    }

    @Override
    public GenerationResult result() {
        List<int[]> tokens = new ArrayList<>(rows);
        List<String> out = new ArrayList<>(rows);
        List<FinishReason> why = new ArrayList<>(rows);
        List<SequenceScores> measured = new ArrayList<>(rows);
        for (int r = 0; r < rows; r++) {
            tokens.add(Arrays.copyOfRange(seq[r], seqLen[r] - produced[r], seqLen[r]));
            out.add(texts[r].toString());
            why.add(reasons[r] == null ? FinishReason.UNFINISHED : reasons[r]);
            measured.add(new SequenceScores(Arrays.copyOf(logprobs[r], cfg.logprobs() ? produced[r] : 0),
                    cfg.topLogprobs() > 0 ? tops.get(r) : List.of(), OptionalDouble.empty(), scores.get(r),
                    logits.get(r)));
        }
        return new GenerationResult(tokens, out, why, measured);
    }

    private static int[][] extend(int[][] m) {
        int[][] c = new int[m.length][];
        for (int i = 0; i < m.length; i++) {
            c[i] = Arrays.copyOf(m[i], m[i].length + 1);
            c[i][m[i].length] = 1;
        }
        return c;
    }

    @Override
    public void close() {
        session.close();
    }
}
