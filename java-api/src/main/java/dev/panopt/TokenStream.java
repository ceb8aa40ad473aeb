package dev.panopt;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * The tokens of one generate call, produced lazily as they are pulled: each step of the model runs
 * when the previous step's tokens have been consumed. An {@link Iterator} over a single pass (as
 * {@link java.util.Scanner} is), and {@link AutoCloseable}: close it to stop early and free its
 * session (exhausting it frees the session too).
 *
 * <pre>{@code
 * try (TokenStream tokens = lm.stream(tokenizer, "Once upon a time", config)) {
 *     while (tokens.hasNext()) {
 *         GeneratedToken t = tokens.next();
 *         System.out.print(t.text());
 *         if (enough()) break;
 *     }
 *     GenerationResult soFar = tokens.result();   // unfinished rows say FinishReason.UNFINISHED
 * }
 * }</pre>
 *
 * <p>With beam search ({@link GenerationConfig#numBeams()} &gt; 1) the tokens are known only when
 * the search ends: the first {@link #hasNext()} runs the whole search, then every returned
 * sequence's tokens follow, row by row.
 *
 * <p>Or as a {@link #stream()}. Not thread-safe, except {@link #cancel()}, which another thread may
 * call to stop the generation (as may interrupting the iterating thread).
 */
public final class TokenStream implements Iterator<GeneratedToken>, AutoCloseable {
    private final Decoder generation;
    private final ArrayDeque<GeneratedToken> buffer = new ArrayDeque<>();
    private boolean closed;

    TokenStream(Decoder generation) {
        this.generation = generation;
    }

    /**
     * Runs the model for the next step when the tokens of the previous one are used up.
     *
     * @return whether another token follows (false once every row has ended or after {@link #close()})
     */
    @Override
    public boolean hasNext() {
        while (buffer.isEmpty() && !closed && !generation.isDone()) {
            buffer.addAll(generation.step());
        }
        if (buffer.isEmpty()) {
            close();
            return false;
        }
        return true;
    }

    /**
     * @return the next token, of any row (rows interleave step by step)
     * @throws NoSuchElementException when every row has ended or the stream is closed
     */
    @Override
    public GeneratedToken next() {
        if (!hasNext()) {
            throw new NoSuchElementException(closed && !generation.isDone() ? "token stream closed"
                    : "generation finished");
        }
        return buffer.poll();
    }

    /**
     * The remaining tokens as a sequential stream; closing the stream closes this.
     *
     * @return a stream over the tokens not yet pulled
     */
    public Stream<GeneratedToken> stream() {
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(this, Spliterator.ORDERED | Spliterator.NONNULL),
                false).onClose(this::close);
    }

    /**
     * The result so far: every token produced until now, including any pulled from the model but
     * not yet returned by {@link #next()}. Complete once the stream is exhausted; after an early
     * {@code break} or {@link #close()}, rows that had not ended are {@link FinishReason#UNFINISHED}.
     *
     * @return the tokens, texts and finish reasons of every row so far
     */
    public GenerationResult result() {
        return generation.result();
    }

    /**
     * Stops the generation before its next step; unlike the other methods, safe to call from any
     * thread (a cancellation handle). The stream then ends: tokens already made stay in
     * {@link #result()}, where every unfinished row says {@link FinishReason#CANCELLED}. A step
     * already running completes first. Interrupting the thread that iterates has the same effect.
     * Does nothing once the generation is done; the consumer still closes the stream.
     */
    public void cancel() {
        generation.cancel();
    }

    /** Stops generating and frees the session; idempotent. {@link #result()} stays available. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            buffer.clear();
            generation.close();
        }
    }
}
