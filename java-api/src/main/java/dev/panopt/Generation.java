package dev.panopt;

import dev.panopt.tokenizer.OptTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * One generate call as a step machine: the first step runs the prompt, each later step feeds one
 * token per row through the session's KV cache (HF's loop). Rows finish independently; finished
 * rows keep feeding the pad token, attended, as HF does, until every row is done. Not thread-safe;
 * owns its session.
 */
final class Generation implements AutoCloseable {
    private static final ForwardOptions CACHED = ForwardOptions.builder().useCache(true).build();

    private final OptForCausalLM lm;
    private final Session session;
    private final GenerationConfig cfg;
    private final OptTokenizer tokenizer;
    private final int batch;
    private final int pad;
    private final Set<Integer> eos;
    private final SplittableRandom rnd;
    private final int[][] prompt;
    private int[][] mask;
    private final int[][] seq;        // real prompt tokens + new tokens, per row
    private final int[] seqLen;
    private final int[] produced;
    private final FinishReason[] reasons;
    private final OptTokenizer.StreamDecoder[] decoders;
    private final StringBuilder[] texts;
    private int[] lastTokens;
    private boolean started;
    private int unfinished;
    private volatile boolean cancelRequested;

    Generation(OptForCausalLM lm, int[][] inputIds, int[][] attentionMask, GenerationConfig cfg, OptTokenizer tokenizer,
               SessionOptions sessionOptions) {
        this.lm = lm;
        this.cfg = cfg;
        this.tokenizer = tokenizer;
        OptConfig c = lm.config();
        Inputs.flatten("input_ids", inputIds);
        this.batch = inputIds.length;
        int promptLen = inputIds[0].length;
        Inputs.checkTokenIds(inputIds, c.vocabSize());
        this.prompt = inputIds;
        this.mask = attentionMask == null ? ones(batch, promptLen) : copy(attentionMask);
        Inputs.mask(this.mask, batch);
        for (int b = 0; b < batch; b++) {
            if (mask[b].length != promptLen) {
                throw new IllegalArgumentException("attention_mask[" + b + "] must have " + promptLen + " entries");
            }
            if (mask[b][promptLen - 1] != 1) {
                throw new IllegalArgumentException("row " + b + " ends with padding: generation needs left padding "
                        + "(EncodeOptions.paddingSide(LEFT))");
            }
        }
        if (!cfg.stopStrings().isEmpty() && tokenizer == null) {
            throw new IllegalArgumentException("stop strings need a tokenizer: use generate(tokenizer, prompts, config)");
        }
        int total = promptLen + cfg.maxNewTokens();
        if (total > c.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("prompt of " + promptLen + " + max_new_tokens " + cfg.maxNewTokens()
                    + " exceeds max_position_embeddings " + c.maxPositionEmbeddings());
        }
        this.pad = c.padTokenId().orElse(c.eosTokenId().orElse(0));
        Set<Integer> e = cfg.eosTokenIdsOrNull();
        this.eos = e != null ? e : c.eosTokenId().isPresent() ? Set.of(c.eosTokenId().getAsInt()) : Set.of();
        this.rnd = new SplittableRandom(cfg.seed().orElseGet(() -> new SplittableRandom().nextLong()));
        this.seq = new int[batch][promptLen + cfg.maxNewTokens()];
        this.seqLen = new int[batch];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < promptLen; t++) {
                if (mask[b][t] == 1) {
                    seq[b][seqLen[b]++] = inputIds[b][t];
                }
            }
        }
        this.produced = new int[batch];
        this.reasons = new FinishReason[batch];
        this.unfinished = batch;
        this.texts = new StringBuilder[batch];
        this.decoders = new OptTokenizer.StreamDecoder[batch];
        for (int b = 0; b < batch; b++) {
            texts[b] = new StringBuilder();
            decoders[b] = tokenizer == null ? null : tokenizer.newStreamDecoder(true);
        }
        this.session = lm.newSession(sessionOptions.toBuilder().maxBatch(batch).maxSequenceLength(total).build());
    }

    boolean isDone() {
        return unfinished == 0;
    }

    /** Asks for the generation to stop before its next step; safe from any thread. */
    void cancel() {
        cancelRequested = true;
    }

    /** Ends every unfinished row as {@link FinishReason#CANCELLED}. */
    private void cancelRows() {
        for (int b = 0; b < batch; b++) {
            if (reasons[b] == null) {
                if (decoders[b] != null) {
                    texts[b].append(decoders[b].finish());
                }
                reasons[b] = FinishReason.CANCELLED;
            }
        }
        unfinished = 0;
    }

    /**
     * Runs one forward and returns the tokens it produced (one per unfinished row). If the calling
     * thread is interrupted or {@link #cancel()} was called, runs nothing, ends the unfinished rows as
     * {@link FinishReason#CANCELLED} and returns no tokens (the interrupt status stays set).
     */
    List<GeneratedToken> step() {
        if (isDone()) {
            return List.of();
        }
        if (cancelRequested || Thread.currentThread().isInterrupted()) {
            cancelRows();
            return List.of();
        }
        CausalLMOutput out;
        if (!started) {
            out = lm.forwardLast(session, prompt, mask, CACHED);
            started = true;
        } else {
            int[][] next = new int[batch][1];
            for (int b = 0; b < batch; b++) {
                next[b][0] = reasons[b] == null ? lastTokens[b] : pad;
            }
            mask = extend(mask);
            out = lm.forwardLast(session, next, mask, CACHED);
        }
        List<GeneratedToken> step = new ArrayList<>(unfinished);
        lastTokens = new int[batch];
        try (out) {
            float[] scores = new float[(int) out.logits().size(1)];
            for (int b = 0; b < batch; b++) {
                if (reasons[b] != null) {
                    continue;
                }
                out.logits().copyTo((long) b * scores.length, scores);
                int token = choose(b, scores);
                lastTokens[b] = token;
                step.add(accept(b, token));
            }
        }
        return step;
    }

    private int choose(int b, float[] scores) {
        LogitsProcessing.repetitionPenalty(scores, seq[b], seqLen[b], cfg.repetitionPenalty());
        LogitsProcessing.noRepeatNgram(scores, seq[b], seqLen[b], cfg.noRepeatNgramSize());
        if (produced[b] < cfg.minNewTokens()) {
            LogitsProcessing.banAll(scores, eos);
        }
        return cfg.doSample()
                ? LogitsProcessing.sample(scores, cfg.temperature(), cfg.topK(), cfg.topP(), rnd)
                : LogitsProcessing.argmax(scores);
    }

    private GeneratedToken accept(int b, int token) {
        int index = produced[b]++;
        seq[b][seqLen[b]++] = token;
        String delta = "";
        if (decoders[b] != null && tokenizer.idToToken(token).isPresent()) {
            delta = decoders[b].push(token);
        }
        FinishReason reason = FinishReason.UNFINISHED;
        if (eos.contains(token)) {
            reason = FinishReason.EOS;
        } else if (cfg.stopTokenIds().contains(token)) {
            reason = FinishReason.STOP_TOKEN;
        } else if (produced[b] >= cfg.maxNewTokens()) {
            reason = FinishReason.MAX_NEW_TOKENS;
        }
        texts[b].append(delta);
        if (reason == FinishReason.UNFINISHED && !cfg.stopStrings().isEmpty()) {
            int from = Math.max(0, texts[b].length() - delta.length() - longestStop());
            for (String s : cfg.stopStrings()) {
                if (texts[b].indexOf(s, from) >= 0) {
                    reason = FinishReason.STOP_STRING;
                    break;
                }
            }
        }
        if (reason != FinishReason.UNFINISHED) {
            if (decoders[b] != null) {
                String tail = decoders[b].finish();
                texts[b].append(tail);
                delta += tail;
            }
            reasons[b] = reason;
            unfinished--;
        }
        return new GeneratedToken(b, index, token, delta, reason);
    }

    private int longestStop() {
        int m = 0;
        for (String s : cfg.stopStrings()) {
            m = Math.max(m, s.length());
        }
        return m;
    }

    /**
     * The tokens, texts and finish reasons so far: complete once {@link #isDone()}; before that, rows
     * still going are {@link FinishReason#UNFINISHED} and their text holds what was decoded so far
     * (without a character still incomplete at the cut).
     */
    GenerationResult result() {
        List<int[]> tokens = new ArrayList<>(batch);
        List<String> out = new ArrayList<>(batch);
        List<FinishReason> why = new ArrayList<>(batch);
        for (int b = 0; b < batch; b++) {
            tokens.add(Arrays.copyOfRange(seq[b], seqLen[b] - produced[b], seqLen[b]));
            out.add(texts[b].toString());
            why.add(reasons[b] == null ? FinishReason.UNFINISHED : reasons[b]);
        }
        return new GenerationResult(tokens, out, why);
    }

    private static int[][] ones(int rows, int cols) {
        int[][] m = new int[rows][cols];
        for (int[] r : m) {
            Arrays.fill(r, 1);
        }
        return m;
    }

    private static int[][] copy(int[][] m) {
        int[][] c = new int[m.length][];
        for (int i = 0; i < m.length; i++) {
            c[i] = m[i] == null ? null : m[i].clone();
        }
        return c;
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
