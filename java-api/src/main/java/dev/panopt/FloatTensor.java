package dev.panopt;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Reference;
import java.util.Arrays;
import java.util.Objects;

/**
 * A read-only, dense, row-major view of float32 values living in native memory.
 *
 * <p>The memory belongs to whatever produced the view (a forward output, a session); the view
 * stays usable until its owner is closed. After that every access throws
 * {@link IllegalStateException}; it never reads freed memory. Views are immutable and may be read
 * from any thread while the owner is open. A forward's output memory is also freed, by a cleaner,
 * once none of its views is reachable (closing the output is the prompt way).
 */
public final class FloatTensor {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private final String name;
    private final long[] shape;
    private final long[] strides;
    private final MemorySegment segment;
    private final Lifetime lifetime;

    /** The owner of a view's memory, shared by the views of one output. */
    interface Lifetime {
        /** {@return whether the memory was released (views must throw from then on)} */
        boolean isReleased();

        /** Releases the memory early (idempotent). */
        void release();
    }

    FloatTensor(String name, MemorySegment segment, long... shape) {
        this(name, segment, null, shape);
    }

    /** {@code lifetime} owns the memory this view reads (shared by the views of one forward). */
    FloatTensor(String name, MemorySegment segment, Lifetime lifetime, long... shape) {
        this.lifetime = lifetime;
        this.name = Objects.requireNonNull(name);
        this.shape = shape.clone();
        long n = 1;
        this.strides = new long[shape.length];
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            }
            strides[i] = n;
            n = Math.multiplyExact(n, shape[i]);
        }
        if (segment.byteSize() != n * Float.BYTES) {
            throw new IllegalArgumentException(name + ": segment of " + segment.byteSize() + " bytes for shape "
                    + Arrays.toString(shape));
        }
        this.segment = segment.asReadOnly();
    }

    /** {@return what this tensor is, e.g. {@code logits} or {@code hidden_states.2}} */
    public String name() {
        return name;
    }

    /** {@return the shape (a copy)} */
    public long[] shape() {
        return shape.clone();
    }

    /**
     * Size of dimension {@code dim}.
     *
     * @param dim the dimension, in [0, {@link #rank()})
     * @return its size
     * @throws ArrayIndexOutOfBoundsException if {@code dim} is out of range
     */
    public long size(int dim) {
        return shape[dim];
    }

    /** {@return the number of dimensions} */
    public int rank() {
        return shape.length;
    }

    /** {@return the number of elements} */
    public long numel() {
        return segment.byteSize() / Float.BYTES;
    }

    /** {@return whether the owner of the memory is still open} */
    public boolean isAlive() {
        return segment.scope().isAlive() && (lifetime == null || !lifetime.isReleased());
    }

    /**
     * The element at {@code index} (one index per dimension).
     *
     * @param index one index per dimension, each in [0, size of that dimension)
     * @return the element
     * @throws IllegalArgumentException  if the number of indices is not {@link #rank()}
     * @throws IndexOutOfBoundsException if an index is out of range
     * @throws IllegalStateException     if the owner is closed
     */
    public float get(long... index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException(name + " has rank " + shape.length + ", got " + index.length + " indices");
        }
        long off = 0;
        for (int i = 0; i < index.length; i++) {
            Objects.checkIndex(index[i], shape[i]);
            off += index[i] * strides[i];
        }
        return getFlat(off);
    }

    /**
     * The element at flat (row-major) position {@code i}.
     *
     * @param i the position, in [0, {@link #numel()})
     * @return the element
     * @throws IndexOutOfBoundsException if {@code i} is out of range
     * @throws IllegalStateException     if the owner is closed
     */
    public float getFlat(long i) {
        try {
            ensureAlive();
            return segment.getAtIndex(F32, Objects.checkIndex(i, numel()));
        } finally {
            Reference.reachabilityFence(this); // the memory is freed once no view of it is reachable
        }
    }

    /**
     * All elements, row-major, in a new array (at most 2^31 - 1 of them).
     *
     * @return the elements
     * @throws IllegalStateException if the owner is closed, or the tensor has too many elements for an array
     */
    public float[] toFloatArray() {
        try {
            ensureAlive();
            return segment.toArray(F32);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Elements {@code [from, from + dst.length)} (flat) copied into {@code dst}.
     *
     * @param from the first flat position
     * @param dst  receives {@code dst.length} elements
     * @throws IndexOutOfBoundsException if the range does not lie within [0, {@link #numel()})
     * @throws IllegalStateException     if the owner is closed
     */
    public void copyTo(long from, float[] dst) {
        try {
            ensureAlive();
            Objects.checkFromIndexSize(from, dst.length, numel());
            MemorySegment.copy(segment, F32, from * Float.BYTES, dst, 0, dst.length);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * The values along the last dimension at the given leading indices, e.g. {@code row(b, t)} of
     * logits [batch, seq, vocab] gives the vocab-long row.
     *
     * @param leading one index for each dimension but the last
     * @return the row, a new array as long as the last dimension
     * @throws IllegalArgumentException  if the number of indices is not {@code rank() - 1}
     * @throws IndexOutOfBoundsException if an index is out of range
     * @throws IllegalStateException     if the owner is closed
     */
    public float[] row(long... leading) {
        if (leading.length != shape.length - 1) {
            throw new IllegalArgumentException(name + ": row() needs " + (shape.length - 1) + " indices");
        }
        long off = 0;
        for (int i = 0; i < leading.length; i++) {
            Objects.checkIndex(leading[i], shape[i]);
            off += leading[i] * strides[i];
        }
        float[] out = new float[Math.toIntExact(shape[shape.length - 1])];
        copyTo(off, out);
        return out;
    }

    /**
     * Zero-copy read-only access to the memory; valid only while {@link #isAlive()}, and only while
     * this tensor (or its output) is reachable: an output nobody refers to any more is freed by the
     * garbage collector's cleaner even if a segment taken from it is still held. Small outputs of
     * one session share native blocks that are freed together (one JVM handshake per block rather
     * than per output), so a segment taken before its output was closed may stay readable for a
     * while after the close, until its block is freed (then it throws); it never reads freed
     * memory.
     *
     * @return the elements, row-major, as a read-only segment of {@link #numel()} floats
     * @throws IllegalStateException if the owner is closed
     */
    public MemorySegment segment() {
        ensureAlive();
        return segment;
    }

    /** Frees the owner's memory early, if the owner allows it (forward outputs do). */
    void release() {
        if (lifetime != null) {
            lifetime.release();
        }
    }

    private void ensureAlive() {
        if (!isAlive()) {
            throw new IllegalStateException(name + " was released: its output, session or model is closed");
        }
    }

    @Override
    public String toString() {
        return "FloatTensor[" + name + " " + Arrays.toString(shape) + (isAlive() ? "" : " (released)") + "]";
    }
}
