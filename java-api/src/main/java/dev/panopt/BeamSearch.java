package dev.panopt;

import dev.panopt.tokenizer.OptTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * HF's beam search ({@code GenerationMixin._beam_search} with its {@code BeamSearchScorer},
 * transformers 4.38) as a step machine. Each prompt keeps {@code numBeams} running beams, one
 * cache row each. A step scores every beam's next tokens by its summed log-probabilities
 * (log-softmax of the logits, then the logits processors), takes the best
 * {@code max(2, 1 + #end ids) * numBeams} candidates, files those ending with an EOS or stop id
 * (when ranked within the first numBeams) with the prompt's {@link BeamHypotheses} and continues
 * with the best numBeams others. The cache follows the beams through
 * {@link Session#reorderCache(int...)}, which copies only rows whose parent changed. The prompt
 * runs once per prompt and its cache is copied to the beams (HF runs it once per beam); prompts
 * that are done leave the batch (HF keeps feeding them padding, which changes nothing). The
 * tokens come out when the search ends: per prompt its {@code numReturnSequences} best
 * hypotheses, best first. Not thread-safe except {@link #cancel()}; owns its session.
 */
final class BeamSearch implements Decoder {
    private static final ForwardOptions CACHED = ForwardOptions.builder().useCache(true).build();

    /**
     * One token of a beam's history; beams share their common past (a persistent list). {@code end}
     * says why a finished hypothesis ended (null while running).
     */
    private record Node(Node parent, int token, int length, double logprob, List<TokenLogprob> top, float[] scores,
                        float[] logits, FinishReason end) {}

    /** A running beam: its tokens (real prompt + new), summed processed log-probabilities, history, parent beam. */
    private record Beam(int[] seq, int len, double score, Node node, int parent) {}

    /** A candidate continuation of beam {@code beam} by {@code token}; {@code flat} orders ties as torch.topk's index. */
    private record Candidate(int beam, int token, double total, long flat) {}

    /** A result and, per row, the text each of its tokens completes. */
    private record Collected(GenerationResult result, List<List<String>> deltas) {}

    private static final Comparator<Candidate> BEST_FIRST =
            Comparator.comparingDouble(Candidate::total).reversed().thenComparingLong(Candidate::flat);

    private final GenerationInputs in;
    private final GenerationConfig cfg;
    private final int numBeams;
    private final int candidates;
    private final Session session;
    private final Beam[][] beams;  // [prompt][beam]
    private final List<BeamHypotheses<Node>> hyps;
    private final boolean[] done;
    private int[] active;          // prompts still searching, in session row order (numBeams rows each)
    private int produced;          // new tokens per beam so far
    private boolean started;
    private Collected finished;
    private volatile boolean cancelRequested;

    /** Beam search with {@code numBeams} beams (HF routes 1 to greedy search; here 1 runs the same machinery). */
    BeamSearch(GenerationInputs in, int numBeams, SessionOptions sessionOptions) {
        this.in = in;
        this.cfg = in.cfg;
        this.numBeams = numBeams;
        Set<Integer> ends = new HashSet<>(in.eos);
        ends.addAll(cfg.stopTokenIds());
        this.candidates = Math.max(2, 1 + ends.size()) * numBeams;
        this.beams = new Beam[in.batch][numBeams];
        this.hyps = new ArrayList<>(in.batch);
        for (int p = 0; p < in.batch; p++) {
            hyps.add(new BeamHypotheses<>(numBeams, cfg.lengthPenalty(), cfg.earlyStopping(), cfg.maxNewTokens()));
            int[] seq = Arrays.copyOf(in.realTokens[p], in.realTokens[p].length + cfg.maxNewTokens());
            for (int k = 0; k < numBeams; k++) {
                // Only beam 0 competes at the first step: the others are its copies (HF's -1e9).
                beams[p][k] = new Beam(seq, in.realTokens[p].length, k == 0 ? 0 : -1e9, null, k);
            }
        }
        this.done = new boolean[in.batch];
        this.active = new int[in.batch];
        for (int p = 0; p < in.batch; p++) {
            active[p] = p;
        }
        this.session = in.lm.newSession(sessionOptions.toBuilder().maxBatch(in.batch * numBeams)
                .maxSequenceLength(in.totalLength()).build());
    }

    @Override
    public boolean isDone() {
        return finished != null;
    }

    @Override
    public void cancel() {
        cancelRequested = true;
    }

    @Override
    public List<GeneratedToken> step() {
        if (isDone()) {
            return List.of();
        }
        if (cancelRequested || Thread.currentThread().isInterrupted()) {
            return finish(FinishReason.CANCELLED);
        }
        boolean first = !started;
        CausalLMOutput out;
        if (first) {
            out = in.lm.forwardLast(session, in.prompt, in.mask, CACHED);
            started = true;
        } else {
            int n = active.length * numBeams;
            int[][] next = new int[n][1];
            int[][] mask = new int[n][];
            for (int i = 0; i < active.length; i++) {
                int[] m = in.maskRow(active[i], produced);
                for (int k = 0; k < numBeams; k++) {
                    Beam b = beams[active[i]][k];
                    next[i * numBeams + k][0] = b.seq[b.len - 1];
                    mask[i * numBeams + k] = m;
                }
            }
            out = in.lm.forwardLast(session, next, mask, CACHED);
        }
        int[] parents = new int[active.length * numBeams]; // session row of each next beam's parent
        int kept = 0;
        try (out) {
            for (int i = 0; i < active.length; i++) {
                int p = active[i];
                int firstRow = first ? p : i * numBeams; // the session row of the prompt's beam 0
                Beam[] next = stepPrompt(p, out.logits(), firstRow, !first);
                if (!done[p]) {
                    for (int k = 0; k < numBeams; k++) {
                        parents[kept * numBeams + k] = firstRow + (first ? 0 : next[k].parent());
                    }
                    beams[p] = next;
                    active[kept++] = p;
                }
            }
        }
        produced++;
        if (kept == 0 || produced >= cfg.maxNewTokens()) {
            return finish(FinishReason.MAX_NEW_TOKENS);
        }
        active = Arrays.copyOf(active, kept);
        session.reorderCache(Arrays.copyOf(parents, kept * numBeams));
        return List.of();
    }

    /**
     * One scorer step for prompt p (HF's {@code BeamSearchScorer.process}): scores its beams' next
     * tokens (beam k's logits at session row {@code firstRow + k}, or all at firstRow for the prompt
     * step), files finished hypotheses, decides whether the prompt is done and returns its next beams.
     */
    private Beam[] stepPrompt(int p, FloatTensor logits, int firstRow, boolean perBeamRows) {
        int vocab = (int) logits.size(1);
        Beam[] cur = beams[p];
        float[][] rowScores = new float[numBeams][];
        float[][] raw = new float[numBeams][];
        List<List<TokenLogprob>> tops = new ArrayList<>(numBeams);
        List<Candidate> cands = new ArrayList<>(numBeams * candidates);
        for (int k = 0; k < numBeams; k++) {
            float[] s = new float[vocab];
            logits.copyTo((long) (firstRow + (perBeamRows ? k : 0)) * vocab, s);
            if (cfg.outputLogits()) {
                raw[k] = s.clone();
            }
            Logprobs.logSoftmax(s);
            in.pipeline.process(cur[k].seq(), cur[k].len(), produced, s);
            rowScores[k] = s;
            tops.add(cfg.topLogprobs() > 0 ? Logprobs.top(s, cfg.topLogprobs(), 0) : List.of());
            // The prompt's best candidates overall are among each beam's best.
            for (int v : Logprobs.topIndices(s, candidates, true)) {
                cands.add(new Candidate(k, v, cur[k].score() + s[v], (long) k * vocab + v));
            }
        }
        cands.sort(BEST_FIRST);
        Beam[] next = new Beam[numBeams];
        int n = 0;
        for (int rank = 0; rank < Math.min(candidates, cands.size()) && n < numBeams; rank++) {
            Candidate c = cands.get(rank);
            FinishReason end = in.endOf(c.token());
            if (end != null && rank >= numBeams) {
                continue; // an ending outside the first numBeams does not count (HF)
            }
            Beam parent = cur[c.beam()];
            Node node = new Node(parent.node(), c.token(), produced + 1, rowScores[c.beam()][c.token()],
                    tops.get(c.beam()), cfg.outputScores() ? rowScores[c.beam()] : null, raw[c.beam()], end);
            if (end != null) {
                hyps.get(p).add(node, c.total(), produced + 1);
            } else {
                int[] seq = parent.seq().clone(); // beams may share a parent
                seq[parent.len()] = c.token();
                next[n++] = new Beam(seq, parent.len() + 1, c.total(), node, c.beam());
            }
        }
        if (n < numBeams) {
            throw new IllegalStateException("beam search found only " + n + " of " + numBeams
                    + " continuations that do not end the sequence (vocabulary of " + vocab + " for " + candidates
                    + " candidates)");
        }
        done[p] = done[p] || hyps.get(p).isDone(cands.get(0).total(), produced + 1);
        return next;
    }

    /** Ends the search: files the running beams of prompts not done (HF's finalize) and emits every token. */
    private List<GeneratedToken> finish(FinishReason openReason) {
        finished = collect(openReason);
        GenerationResult r = finished.result();
        List<GeneratedToken> out = new ArrayList<>();
        for (int row = 0; row < r.tokens().size(); row++) {
            int[] t = r.tokens(row);
            SequenceScores sc = r.scores(row);
            double[] lp = sc.logprobs();
            for (int i = 0; i < t.length; i++) {
                out.add(new GeneratedToken(row, i, t[i], finished.deltas().get(row).get(i),
                        i == t.length - 1 ? r.reason(row) : FinishReason.UNFINISHED, lp[i],
                        sc.topLogprobs().isEmpty() ? List.of() : sc.topLogprobs().get(i)));
            }
        }
        return out;
    }

    /**
     * The best hypotheses of every prompt, as HF's finalize picks them, without changing the search:
     * running beams of prompts not done join copies of their lists with {@code openReason}.
     */
    private Collected collect(FinishReason openReason) {
        int n = cfg.numReturnSequences();
        List<int[]> tokens = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        List<FinishReason> reasons = new ArrayList<>();
        List<SequenceScores> scores = new ArrayList<>();
        List<List<String>> deltas = new ArrayList<>();
        for (int p = 0; p < in.batch; p++) {
            List<BeamHypotheses.Entry<Node>> best = new ArrayList<>();
            if (started) {
                BeamHypotheses<Node> h = done[p] ? hyps.get(p) : hyps.get(p).copy();
                if (!done[p]) {
                    for (Beam b : beams[p]) {
                        h.add(b.node(), b.score(), produced);
                    }
                }
                best = h.best(n);
            }
            for (int j = 0; j < n; j++) {
                BeamHypotheses.Entry<Node> e = j < best.size() ? best.get(j) : null;
                List<Node> path = new ArrayList<>();
                for (Node x = e == null ? null : e.hypothesis(); x != null; x = x.parent()) {
                    path.add(x);
                }
                java.util.Collections.reverse(path);
                int[] t = new int[path.size()];
                double[] lp = new double[path.size()];
                List<List<TokenLogprob>> top = new ArrayList<>();
                List<float[]> sc = new ArrayList<>();
                List<float[]> lg = new ArrayList<>();
                OptTokenizer.StreamDecoder d = in.newTextDecoder();
                List<String> delta = new ArrayList<>();
                StringBuilder text = new StringBuilder();
                for (int i = 0; i < t.length; i++) {
                    Node x = path.get(i);
                    t[i] = x.token();
                    lp[i] = x.logprob();
                    if (cfg.topLogprobs() > 0) {
                        top.add(x.top());
                    }
                    if (cfg.outputScores()) {
                        sc.add(x.scores());
                    }
                    if (cfg.outputLogits()) {
                        lg.add(x.logits());
                    }
                    String s = in.push(d, x.token());
                    if (i == t.length - 1 && d != null) {
                        s += d.finish();
                    }
                    delta.add(s);
                    text.append(s);
                }
                Node last = path.isEmpty() ? null : path.get(path.size() - 1);
                tokens.add(t);
                texts.add(text.toString());
                reasons.add(last != null && last.end() != null ? last.end() : openReason);
                scores.add(new SequenceScores(lp, top, e == null ? OptionalDouble.empty() : OptionalDouble.of(e.score()),
                        sc, lg));
                deltas.add(delta);
            }
        }
        return new Collected(new GenerationResult(tokens, texts, reasons, scores), deltas);
    }

    @Override
    public GenerationResult result() {
        return finished != null ? finished.result() : collect(FinishReason.UNFINISHED).result();
    }

    @Override
    public void close() {
        session.close();
    }
}
