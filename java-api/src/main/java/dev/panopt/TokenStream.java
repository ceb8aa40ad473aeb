package dev.panopt;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Tokens of a generate call, produced lazily as they are pulled: each step of the model runs when
 * the previous step's tokens have been consumed. Close it to stop early and free its session
 * (exhausting it also frees the session). Not thread-safe.
 */
public final class TokenStream implements Iterator<GeneratedToken>, Iterable<GeneratedToken>, AutoCloseable {
    private final Generation generation;
    private final ArrayDeque<GeneratedToken> buffer = new ArrayDeque<>();
    private boolean closed;

    TokenStream(Generation generation) {
        this.generation = generation;
    }

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

    @Override
    public GeneratedToken next() {
        if (!hasNext()) {
            throw new NoSuchElementException("generation finished");
        }
        return buffer.poll();
    }

    @Override
    public Iterator<GeneratedToken> iterator() {
        return this;
    }

    /** The tokens as a sequential stream (closing the stream closes this). */
    public Stream<GeneratedToken> stream() {
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(this, Spliterator.ORDERED | Spliterator.NONNULL),
                false).onClose(this::close);
    }

    /** The result so far (all of it once exhausted). */
    public GenerationResult result() {
        return generation.result();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            generation.close();
        }
    }
}
