package dev.panopt.checkpoint;

import dev.panopt.DType;
import java.util.Arrays;
import java.util.Objects;

/**
 * Where one tensor lies in a checkpoint file and what it holds.
 *
 * <p>Immutable: the shape is copied on construction and on access. Thread-safe.
 *
 * @param name     the tensor's name as stored in the file
 * @param dtype    element type
 * @param shape    dimensions, outermost first (row-major); empty for a scalar
 * @param offset   absolute byte offset of the first element in the file
 * @param byteSize number of bytes, {@code dtype.bytes(numel())}
 */
public record TensorInfo(String name, DType dtype, long[] shape, long offset, long byteSize) {
    /**
     * Validates the values and copies the shape.
     *
     * @throws NullPointerException     if {@code name}, {@code dtype} or {@code shape} is null
     * @throws IllegalArgumentException if a dimension or offset is negative, the element count
     *         overflows, or {@code byteSize} does not equal {@code dtype.bytes(numel)}
     */
    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = Objects.requireNonNull(shape, "shape").clone();
        if (offset < 0) {
            throw new IllegalArgumentException("tensor " + name + ": negative offset " + offset);
        }
        long n = numel(shape); // validates dims and overflow
        long expected;
        try {
            expected = dtype.bytes(n);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("tensor " + name + ": byte size of shape " + Arrays.toString(shape)
                    + " overflows");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("tensor " + name + ": shape " + Arrays.toString(shape) + ": " + e.getMessage());
        }
        if (byteSize != expected) {
            throw new IllegalArgumentException("tensor " + name + ": byteSize " + byteSize + " != " + expected
                    + " (shape " + Arrays.toString(shape) + ", " + dtype + ")");
        }
    }

    /** {@return a copy of the shape} */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** {@return the number of elements (1 for a scalar)} */
    public long numel() {
        return numel(shape);
    }

    /** {@return the number of dimensions (0 for a scalar)} */
    public int rank() {
        return shape.length;
    }

    /**
     * Whether the shape equals {@code expected}.
     *
     * @param expected the dimensions, outermost first
     * @return true when the shape has exactly these dimensions
     */
    public boolean hasShape(long... expected) {
        return Arrays.equals(shape, expected);
    }

    /**
     * Product of dimensions, overflow-checked.
     *
     * @param shape the dimensions; empty for a scalar
     * @return the element count (1 for a scalar)
     * @throws IllegalArgumentException for a negative dimension or an overflowing product
     */
    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("element count of shape " + Arrays.toString(shape) + " overflows");
            }
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && offset == t.offset && byteSize == t.byteSize;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), offset, byteSize);
    }

    @Override
    public String toString() {
        return "TensorInfo[" + name + " " + dtype + " " + Arrays.toString(shape) + " @" + offset + " +" + byteSize + "]";
    }
}
