package dev.panopt;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * HF's {@code BeamHypotheses} (transformers 4.38): the best {@code numBeams} finished hypotheses of
 * one prompt, each scored by its summed log-probabilities divided by its generated length to the
 * power {@code lengthPenalty}, and the early-stopping test. Not thread-safe.
 *
 * @param <T> what a hypothesis carries (its tokens)
 */
final class BeamHypotheses<T> {
    /** A finished hypothesis and its length-penalised score. */
    record Entry<T>(double score, T hypothesis) {}

    private final int numBeams;
    private final double lengthPenalty;
    private final GenerationConfig.EarlyStopping earlyStopping;
    private final int maxNewTokens;
    private final List<Entry<T>> beams = new ArrayList<>();
    private double worstScore = 1e9;

    BeamHypotheses(int numBeams, double lengthPenalty, GenerationConfig.EarlyStopping earlyStopping, int maxNewTokens) {
        this.numBeams = numBeams;
        this.lengthPenalty = lengthPenalty;
        this.earlyStopping = earlyStopping;
        this.maxNewTokens = maxNewTokens;
    }

    /** {@return a copy (the hypotheses themselves are shared)} */
    BeamHypotheses<T> copy() {
        BeamHypotheses<T> c = new BeamHypotheses<>(numBeams, lengthPenalty, earlyStopping, maxNewTokens);
        c.beams.addAll(beams);
        c.worstScore = worstScore;
        return c;
    }

    int size() {
        return beams.size();
    }

    /** The lowest score kept once the list is full (1e9 while empty, as HF starts it). */
    double worstScore() {
        return worstScore;
    }

    /** {@return a sum of log-probabilities over {@code generatedLen} tokens, length-penalised} */
    double score(double sumLogprobs, int generatedLen) {
        return sumLogprobs / Math.pow(generatedLen, lengthPenalty);
    }

    /**
     * Adds a hypothesis if the list has room or it beats the worst kept one, which it then
     * replaces (among equal worst scores, the earliest added goes).
     */
    void add(T hypothesis, double sumLogprobs, int generatedLen) {
        double score = score(sumLogprobs, generatedLen);
        if (beams.size() < numBeams || score > worstScore) {
            beams.add(new Entry<>(score, hypothesis));
            if (beams.size() > numBeams) {
                List<Integer> order = ascending();
                worstScore = beams.get(order.get(1)).score();
                beams.remove((int) order.get(0));
            } else {
                worstScore = Math.min(score, worstScore);
            }
        }
    }

    /** Indices of the entries by ascending score, ties by index (Python's sorted over (score, index)). */
    private List<Integer> ascending() {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < beams.size(); i++) {
            order.add(i);
        }
        order.sort(Comparator.<Integer>comparingDouble(i -> beams.get(i).score()).thenComparingInt(i -> i));
        return order;
    }

    /**
     * Whether no running beam can still improve the list (HF's {@code is_done}).
     *
     * @param bestSumLogprobs the best running candidate's summed log-probabilities
     * @param curLen          the generated length that candidate has (this step's token included)
     */
    boolean isDone(double bestSumLogprobs, int curLen) {
        if (beams.size() < numBeams) {
            return false;
        }
        double highest = switch (earlyStopping) {
            case TRUE -> Double.NaN;
            case FALSE -> score(bestSumLogprobs, curLen);
            // The best attainable score: at the longest length when longer sequences score higher.
            case NEVER -> score(bestSumLogprobs, lengthPenalty > 0 ? maxNewTokens : curLen);
        };
        return earlyStopping == GenerationConfig.EarlyStopping.TRUE || worstScore >= highest;
    }

    /** {@return the n best hypotheses, best first (among equal scores, the latest added first, as HF pops a stable sort)} */
    List<Entry<T>> best(int n) {
        List<Entry<T>> sorted = new ArrayList<>(beams);
        sorted.sort(Comparator.comparingDouble(Entry::score)); // stable
        List<Entry<T>> out = new ArrayList<>(n);
        for (int j = 0; j < n && !sorted.isEmpty(); j++) {
            out.add(sorted.remove(sorted.size() - 1));
        }
        return out;
    }
}
