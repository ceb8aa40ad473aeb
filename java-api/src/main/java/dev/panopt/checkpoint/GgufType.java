package dev.panopt.checkpoint;

import java.util.Optional;

/**
 * The types of GGUF metadata values, with the ids of ggml's {@code enum gguf_type} (gguf.h). Values are
 * little-endian; a BOOL is one byte (0 or 1); a STRING is a u64 byte length and UTF-8 bytes without a
 * terminator; an ARRAY is an element type (never ARRAY), a u64 count and the elements.
 *
 * <p>Thread-safety: an enum; immutable.
 */
public enum GgufType {
    /** Unsigned 8-bit integer. */
    UINT8(0, 1),
    /** Signed 8-bit integer. */
    INT8(1, 1),
    /** Unsigned 16-bit integer. */
    UINT16(2, 2),
    /** Signed 16-bit integer. */
    INT16(3, 2),
    /** Unsigned 32-bit integer. */
    UINT32(4, 4),
    /** Signed 32-bit integer. */
    INT32(5, 4),
    /** IEEE 754 binary32. */
    FLOAT32(6, 4),
    /** One byte, 0 or 1. */
    BOOL(7, 1),
    /** A UTF-8 string with a u64 length prefix. */
    STRING(8, 0),
    /** A typed array with a u64 count. */
    ARRAY(9, 0),
    /** Unsigned 64-bit integer. */
    UINT64(10, 8),
    /** Signed 64-bit integer. */
    INT64(11, 8),
    /** IEEE 754 binary64. */
    FLOAT64(12, 8);

    private final int id;
    private final int size;

    GgufType(int id, int size) {
        this.id = id;
        this.size = size;
    }

    /** {@return the id written in the file} */
    public int id() {
        return id;
    }

    /** {@return the bytes of one value of a fixed-size type; 0 for STRING and ARRAY} */
    public int size() {
        return size;
    }

    /** {@return whether this is one of the eight integer types} */
    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    /** {@return whether this is FLOAT32 or FLOAT64} */
    public boolean isFloat() {
        return this == FLOAT32 || this == FLOAT64;
    }

    /**
     * The type of an id read from a file.
     *
     * @param id the stored id
     * @return the type, or empty for an id outside 0..12
     */
    public static Optional<GgufType> fromId(long id) {
        for (GgufType t : values()) {
            if (t.id == id) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /** Smallest and largest value of an integer type (UINT64's largest as far as a {@code long} reaches). */
    long min() {
        return switch (this) {
            case INT8 -> Byte.MIN_VALUE;
            case INT16 -> Short.MIN_VALUE;
            case INT32 -> Integer.MIN_VALUE;
            case INT64 -> Long.MIN_VALUE;
            default -> 0;
        };
    }

    long max() {
        return switch (this) {
            case UINT8 -> 0xffL;
            case INT8 -> Byte.MAX_VALUE;
            case UINT16 -> 0xffffL;
            case INT16 -> Short.MAX_VALUE;
            case UINT32 -> 0xffff_ffffL;
            case INT32 -> Integer.MAX_VALUE;
            default -> Long.MAX_VALUE;
        };
    }
}
