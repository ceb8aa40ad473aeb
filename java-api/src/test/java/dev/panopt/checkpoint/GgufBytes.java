package dev.panopt.checkpoint;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Raw little-endian GGUF bytes for tests that need files no writer would produce (hostile counts,
 * lengths, types and offsets): every field is written exactly as given.
 */
final class GgufBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** Magic, version, tensor count and key/value count. */
    static GgufBytes header(long version, long nTensors, long nKv) {
        GgufBytes b = new GgufBytes();
        b.bytes("GGUF".getBytes(StandardCharsets.US_ASCII)).u32(version).u64(nTensors).u64(nKv);
        return b;
    }

    GgufBytes bytes(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    GgufBytes u8(int v) {
        out.write(v);
        return this;
    }

    GgufBytes u32(long v) {
        for (int i = 0; i < 4; i++) {
            out.write((int) (v >>> (8 * i)));
        }
        return this;
    }

    GgufBytes u64(long v) {
        for (int i = 0; i < 8; i++) {
            out.write((int) (v >>> (8 * i)));
        }
        return this;
    }

    GgufBytes str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return u64(b.length).bytes(b);
    }

    /** A key with a UINT32 value. */
    GgufBytes kvU32(String key, long v) {
        return str(key).u32(GgufType.UINT32.id()).u32(v);
    }

    /** A key with a STRING value. */
    GgufBytes kvStr(String key, String v) {
        return str(key).u32(GgufType.STRING.id()).str(v);
    }

    /** A tensor info: name, dims (innermost first, as stored), ggml type, offset. */
    GgufBytes tensor(String name, long[] ne, long type, long offset) {
        str(name).u32(ne.length);
        for (long d : ne) {
            u64(d);
        }
        return u32(type).u64(offset);
    }

    /** Zero bytes up to the next multiple of {@code align}. */
    GgufBytes pad(int align) {
        while (out.size() % align != 0) {
            out.write(0);
        }
        return this;
    }

    GgufBytes zeros(int n) {
        out.writeBytes(new byte[n]);
        return this;
    }

    int size() {
        return out.size();
    }

    byte[] toByteArray() {
        return out.toByteArray();
    }
}
