package dev.panopt;

import java.util.List;

/**
 * One generate call as a step machine ({@link Generation}: greedy search and sampling;
 * {@link BeamSearch}). Not thread-safe except {@link #cancel()}; owns its session.
 */
interface Decoder extends AutoCloseable {
    /** {@return whether every row has ended} */
    boolean isDone();

    /** Asks the generation to stop before its next step; safe from any thread. */
    void cancel();

    /**
     * Runs one forward and returns the tokens it made final. If the calling thread is interrupted or
     * {@link #cancel()} was called, runs nothing, ends the unfinished rows as
     * {@link FinishReason#CANCELLED} and returns what that makes final (the interrupt status stays set).
     */
    List<GeneratedToken> step();

    /** {@return the result so far: complete once done; rows still going are UNFINISHED} */
    GenerationResult result();

    @Override
    void close();
}
