package dev.panopt.checkpoint;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Bounds-checked little-endian reads from the start of a GGUF file (the metadata region, at most
 * 2 GiB): every read first checks that the bytes are there, so a length or count the file claims is
 * compared with what the file really holds before anything is sized by it. Not thread-safe (one per
 * parse).
 */
final class GgufCursor {
    private final ByteBuffer buf;
    private final Path file;
    private final long fileSize;
    private int pos;

    /**
     * @param buf      the file's first {@code min(fileSize, 2 GiB)} bytes, little-endian
     * @param fileSize the whole file's size
     */
    GgufCursor(ByteBuffer buf, Path file, long fileSize) {
        this.buf = buf;
        this.file = file;
        this.fileSize = fileSize;
    }

    int position() {
        return pos;
    }

    /** Bytes left in the file after the current position. */
    long remaining() {
        return fileSize - pos;
    }

    /** Throws unless {@code n} more bytes can be read; {@code what} names the value for the message. */
    void need(long n, String what) throws CheckpointException {
        if (n < 0 || n > remaining()) {
            throw new CheckpointException(file, what + " at offset " + pos + " needs " + Long.toUnsignedString(n)
                    + " bytes, but the file has " + remaining() + " left: truncated or not a GGUF file");
        }
        if (n > buf.limit() - pos) {
            throw new CheckpointException(file, what + " at offset " + pos + " lies beyond the first "
                    + buf.limit() + " bytes: GGUF metadata that large is not supported");
        }
    }

    void skip(long n, String what) throws CheckpointException {
        need(n, what);
        pos += (int) n;
    }

    int u8(String what) throws CheckpointException {
        need(1, what);
        return buf.get(pos++) & 0xff;
    }

    /** An unsigned 32-bit value. */
    long u32(String what) throws CheckpointException {
        need(4, what);
        long v = buf.getInt(pos) & 0xffff_ffffL;
        pos += 4;
        return v;
    }

    /** A 64-bit value as stored (a u64 above 2^63 - 1 reads as negative). */
    long i64(String what) throws CheckpointException {
        need(8, what);
        long v = buf.getLong(pos);
        pos += 8;
        return v;
    }

    /** A value of a fixed-size GGUF type: a Long for the integers (u64 as stored), Double, or Boolean. */
    Object scalar(GgufType type, String what) throws CheckpointException {
        need(type.size(), what);
        Object v = value(buf, pos, type, file, what);
        pos += type.size();
        return v;
    }

    /** Reads the fixed-size value at {@code at}. */
    static Object value(ByteBuffer b, int at, GgufType type, Path file, String what) throws CheckpointException {
        return switch (type) {
            case UINT8 -> (long) (b.get(at) & 0xff);
            case INT8 -> (long) b.get(at);
            case UINT16 -> (long) (b.getShort(at) & 0xffff);
            case INT16 -> (long) b.getShort(at);
            case UINT32 -> b.getInt(at) & 0xffff_ffffL;
            case INT32 -> (long) b.getInt(at);
            case UINT64, INT64 -> b.getLong(at);
            case FLOAT32 -> (double) b.getFloat(at);
            case FLOAT64 -> b.getDouble(at);
            case BOOL -> {
                int v = b.get(at);
                if (v != 0 && v != 1) {
                    throw new CheckpointException(file, what + ": bool byte " + v + " is neither 0 nor 1");
                }
                yield v == 1;
            }
            case STRING, ARRAY -> throw new IllegalArgumentException("not a fixed-size type: " + type);
        };
    }

    /** The length prefix of a string, checked against {@code maxBytes} and the bytes left. */
    private int stringLength(String what, long maxBytes) throws CheckpointException {
        long len = i64(what + " length");
        if (len < 0 || len > maxBytes) {
            throw new CheckpointException(file, what + " at offset " + (pos - 8) + " claims "
                    + Long.toUnsignedString(len) + " bytes, more than the limit of " + maxBytes);
        }
        need(len, what);
        return (int) len;
    }

    /** A length-prefixed string of at most {@code maxBytes} UTF-8 bytes. */
    String string(String what, long maxBytes) throws CheckpointException {
        int len = stringLength(what, maxBytes);
        String s = decode(buf, pos, len, newDecoder(), file, what);
        pos += len;
        return s;
    }

    /** Steps over a length-prefixed string of at most {@code maxBytes} bytes without decoding it. */
    void skipString(String what, long maxBytes) throws CheckpointException {
        int len = stringLength(what, maxBytes); // (not "pos += ...": that would read pos before the call moves it)
        pos += len;
    }

    /**
     * Steps over a length-prefixed string if it is valid (length within {@code maxBytes} and the file); returns
     * false, without moving, otherwise. The fast path of string arrays: no message is built per element.
     */
    boolean trySkipString(long maxBytes) {
        int room = buf.limit() - pos;
        if (room < 8) {
            return false;
        }
        long len = buf.getLong(pos);
        if (len < 0 || len > maxBytes || len > room - 8) {
            return false;
        }
        pos += 8 + (int) len;
        return true;
    }

    /** Whether the {@code n} bytes from the current position are all 0 or 1 (valid BOOLs); does not move. */
    boolean allBools(long n) {
        for (int i = 0; i < n; i++) {
            int v = buf.get(pos + i);
            if (v != 0 && v != 1) {
                return false;
            }
        }
        return true;
    }

    static CharsetDecoder newDecoder() {
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
    }

    /** Strictly decodes {@code len} UTF-8 bytes at {@code at}; {@code decoder} is reset and reused. */
    static String decode(ByteBuffer b, int at, int len, CharsetDecoder decoder, Path file, String what)
            throws CheckpointException {
        boolean ascii = true;
        for (int i = 0; i < len && ascii; i++) {
            ascii = b.get(at + i) >= 0;
        }
        if (ascii) { // the common case (keys, names, most tokens) without a CharBuffer
            byte[] bytes = new byte[len];
            b.get(at, bytes);
            return new String(bytes, StandardCharsets.ISO_8859_1);
        }
        try {
            CharBuffer chars = decoder.reset().decode(b.slice(at, len));
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointException(file, what + " at offset " + at + " is not valid UTF-8", e);
        }
    }
}
