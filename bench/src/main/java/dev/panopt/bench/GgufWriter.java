package dev.panopt.bench;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A minimal GGUF v3 writer: typed key/values (u32, f32, string, bool, arrays of strings and
 * int32), then tensor infos (dims innermost first, ggml type, offset aligned to
 * {@code general.alignment} = 32), then the data, streamed tensor by tensor from
 * {@link Weights} so multi-gigabyte files never sit in memory.
 */
public final class GgufWriter {
    private static final int ALIGN = 32;
    private static final int T_U32 = 4, T_I32 = 5, T_F32 = 6, T_BOOL = 7, T_STRING = 8, T_ARRAY = 9;

    /** One tensor: GGUF name, type, dims innermost first, and the synthetic source of its values. */
    public record Tensor(String name, Ggml type, long[] dims, String source, Weights.Kind kind) {
        long elements() {
            long n = 1;
            for (long d : dims) {
                n *= d;
            }
            return n;
        }
    }

    private final Map<String, Object> kv = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();

    public GgufWriter put(String key, Object value) {
        kv.put(key, value);
        return this;
    }

    public GgufWriter tensor(String name, Ggml type, long[] dims, String source, Weights.Kind kind) {
        tensors.add(new Tensor(name, type, dims, source, kind));
        return this;
    }

    public void write(Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
            Le out = new Le(os);
            out.bytes("GGUF".getBytes(StandardCharsets.US_ASCII));
            out.u32(3);
            out.u64(tensors.size());
            out.u64(kv.size());
            for (var e : kv.entrySet()) {
                out.str(e.getKey());
                value(out, e.getValue(), true);
            }
            long off = 0;
            for (Tensor t : tensors) {
                out.str(t.name);
                out.u32(t.dims.length);
                for (long d : t.dims) {
                    out.u64(d);
                }
                out.u32(t.type.id);
                out.u64(off);
                off = align(off + t.type.bytes(t.elements()));
            }
            out.pad();
            float[] buf = new float[1 << 16];
            byte[] enc = new byte[(1 << 16) * 4];
            for (Tensor t : tensors) {
                long n = t.elements();
                for (long from = 0; from < n; from += buf.length) {
                    int len = (int) Math.min(buf.length, n - from);
                    Weights.fill(t.source, t.kind, from, buf, len);
                    out.bytes(enc, t.type.encode(buf, len, enc, 0));
                }
                out.pad();
            }
        }
    }

    private static long align(long x) {
        return (x + ALIGN - 1) / ALIGN * ALIGN;
    }

    private static void value(Le out, Object v, boolean withType) throws IOException {
        switch (v) {
            case Integer i -> {
                if (withType) out.u32(T_U32);
                out.u32(i);
            }
            case Float f -> {
                if (withType) out.u32(T_F32);
                out.u32(Float.floatToRawIntBits(f));
            }
            case Boolean b -> {
                if (withType) out.u32(T_BOOL);
                out.bytes(new byte[] {(byte) (b ? 1 : 0)});
            }
            case String s -> {
                if (withType) out.u32(T_STRING);
                out.str(s);
            }
            case String[] a -> {
                out.u32(T_ARRAY);
                out.u32(T_STRING);
                out.u64(a.length);
                for (String s : a) {
                    out.str(s);
                }
            }
            case int[] a -> {
                out.u32(T_ARRAY);
                out.u32(T_I32);
                out.u64(a.length);
                for (int x : a) {
                    out.u32(x);
                }
            }
            default -> throw new IllegalArgumentException("unsupported GGUF value " + v.getClass());
        }
    }

    /** Little-endian output that tracks its position (for alignment padding). */
    private static final class Le {
        private final OutputStream os;
        private final byte[] b8 = new byte[8];
        private long pos;

        Le(OutputStream os) {
            this.os = os;
        }

        void u32(int v) throws IOException {
            for (int i = 0; i < 4; i++) b8[i] = (byte) (v >>> (8 * i));
            bytes(b8, 4);
        }

        void u64(long v) throws IOException {
            for (int i = 0; i < 8; i++) b8[i] = (byte) (v >>> (8 * i));
            bytes(b8, 8);
        }

        void str(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            bytes(b);
        }

        void bytes(byte[] b) throws IOException {
            bytes(b, b.length);
        }

        void bytes(byte[] b, int n) throws IOException {
            os.write(b, 0, n);
            pos += n;
        }

        void pad() throws IOException {
            int n = (int) (align(pos) - pos);
            if (n > 0) bytes(new byte[n]);
        }
    }
}
