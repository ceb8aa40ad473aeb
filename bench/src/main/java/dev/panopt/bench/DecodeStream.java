package dev.panopt.bench;

import dev.panopt.CausalLMOutput;
import dev.panopt.DType;
import dev.panopt.ForwardRequest;
import dev.panopt.OptForCausalLM;
import dev.panopt.Session;
import dev.panopt.SessionOptions;
import java.lang.foreign.MemorySegment;

/**
 * One greedy decode stream of Panopt's decode benchmarks: a session of {@code batch} rows, its
 * {@code promptLen}-token prompt (prefilled outside the measurement), the next ids, and the step
 * latencies. Not thread-safe: a benchmark thread owns it.
 */
final class DecodeStream implements AutoCloseable {
    final LatencyLog log = new LatencyLog();
    private final OptForCausalLM lm;
    private final Session session;
    private final int vocab;
    private final int batch;
    private final int[][] prompt;
    private final int[][][] masks;
    private final int[][] next;

    DecodeStream(OptForCausalLM lm, int vocab, int batch, int promptLen, int newTokens, DType kvCache) {
        this.lm = lm;
        this.vocab = vocab;
        this.batch = batch;
        session = lm.newSession(SessionOptions.builder().maxBatch(batch)
                .maxSequenceLength(promptLen + newTokens).kvCacheType(kvCache).build());
        prompt = Prompts.ids(batch, promptLen, vocab);
        masks = new int[newTokens][][];
        for (int i = 0; i < newTokens; i++) {
            masks[i] = Prompts.ones(batch, promptLen + i + 1);
        }
        next = new int[batch][1];
    }

    /** Empties the cache and runs the prompt (not timed). */
    void prefill() {
        session.reset();
        try (CausalLMOutput out = lm.forwardLast(ForwardRequest.inputIds(prompt).session(session)
                .options(PanoptBench.CACHED).build())) {
            pick(out);
        }
    }

    /** Decode step {@code i} after the prompt (0-based): one token per row, its latency logged. */
    void step(int i) {
        long t0 = System.nanoTime();
        try (CausalLMOutput out = lm.forwardLast(ForwardRequest.inputIds(next).attentionMask(masks[i])
                .session(session).options(PanoptBench.CACHED).build())) {
            pick(out);
        }
        log.add(System.nanoTime() - t0);
    }

    /** Row 0's last picked id (for the benchmark to return). */
    int last() {
        return next[0][0];
    }

    private void pick(CausalLMOutput out) {
        MemorySegment logits = out.logits().segment();
        for (int b = 0; b < batch; b++) {
            next[b][0] = Sampling.argmax(logits, (long) b * vocab, vocab);
        }
    }

    @Override
    public void close() {
        session.close();
    }
}
