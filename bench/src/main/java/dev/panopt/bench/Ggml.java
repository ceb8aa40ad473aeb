package dev.panopt.bench;

import dev.panopt.DType;

/**
 * ggml tensor types the suite writes, with the reference block quantizers of ggml-quants.c
 * ({@code quantize_row_q8_0_ref}, {@code quantize_row_q4_0_ref}). Block layouts (fixed by
 * static_asserts in ggml-common.h): Q8_0 = fp16 d + 32 int8 (34 B, x = d·q); Q4_0 = fp16 d + 16 bytes
 * of nibbles (18 B, x = d·(q − 8), low nibbles weights 0–15, high nibbles 16–31).
 */
public enum Ggml {
    F32, F16, Q4_0, Q8_0;

    /** The library's type of this format (its block size, byte size and ggml type id). */
    public DType dtype() {
        return DType.valueOf(name());
    }

    public long bytes(long elements) {
        return dtype().bytes(elements);
    }

    /** Bytes per weight (for floors). */
    public double bytesPerWeight() {
        return (double) dtype().blockBytes() / dtype().blockSize();
    }

    /** Encodes {@code n} floats (a multiple of the block size) into {@code out} at {@code off}; returns bytes written. */
    public int encode(float[] x, int n, byte[] out, int off) {
        int p = off;
        switch (this) {
            case F32 -> {
                for (int i = 0; i < n; i++) {
                    int b = Float.floatToRawIntBits(x[i]);
                    out[p++] = (byte) b;
                    out[p++] = (byte) (b >>> 8);
                    out[p++] = (byte) (b >>> 16);
                    out[p++] = (byte) (b >>> 24);
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    short h = Float.floatToFloat16(x[i]);
                    out[p++] = (byte) h;
                    out[p++] = (byte) (h >>> 8);
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < n; b += 32) {
                    float amax = 0;
                    for (int j = 0; j < 32; j++) {
                        amax = Math.max(amax, Math.abs(x[b + j]));
                    }
                    float d = amax / 127f;
                    float id = d != 0 ? 1f / d : 0f;
                    short h = Float.floatToFloat16(d);
                    out[p++] = (byte) h;
                    out[p++] = (byte) (h >>> 8);
                    for (int j = 0; j < 32; j++) {
                        out[p++] = (byte) Math.round(x[b + j] * id); // roundf: half away from zero
                    }
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < n; b += 32) {
                    float amax = 0, max = 0;
                    for (int j = 0; j < 32; j++) {
                        float v = x[b + j];
                        if (amax < Math.abs(v)) {
                            amax = Math.abs(v);
                            max = v;
                        }
                    }
                    float d = max / -8f;
                    float id = d != 0 ? 1f / d : 0f;
                    short h = Float.floatToFloat16(d);
                    out[p++] = (byte) h;
                    out[p++] = (byte) (h >>> 8);
                    for (int j = 0; j < 16; j++) {
                        int q0 = Math.min(15, (int) (byte) (int) (x[b + j] * id + 8.5f));
                        int q1 = Math.min(15, (int) (byte) (int) (x[b + 16 + j] * id + 8.5f));
                        out[p++] = (byte) (q0 | (q1 << 4));
                    }
                }
            }
        }
        return p - off;
    }

    /** Decodes (for tests): the inverse of {@link #encode} up to quantization error. */
    public void decode(byte[] in, int off, int n, float[] x) {
        int p = off;
        for (int b = 0; b < n; b += dtype().blockSize()) {
            switch (this) {
                case F32 -> {
                    x[b] = Float.intBitsToFloat((in[p] & 0xFF) | (in[p + 1] & 0xFF) << 8 | (in[p + 2] & 0xFF) << 16 | in[p + 3] << 24);
                    p += 4;
                }
                case F16 -> {
                    x[b] = Float.float16ToFloat((short) ((in[p] & 0xFF) | in[p + 1] << 8));
                    p += 2;
                }
                case Q8_0 -> {
                    float d = Float.float16ToFloat((short) ((in[p] & 0xFF) | in[p + 1] << 8));
                    p += 2;
                    for (int j = 0; j < 32; j++) {
                        x[b + j] = d * in[p++];
                    }
                }
                case Q4_0 -> {
                    float d = Float.float16ToFloat((short) ((in[p] & 0xFF) | in[p + 1] << 8));
                    p += 2;
                    for (int j = 0; j < 16; j++) {
                        int v = in[p++] & 0xFF;
                        x[b + j] = d * ((v & 0xF) - 8);
                        x[b + 16 + j] = d * ((v >>> 4) - 8);
                    }
                }
            }
        }
    }

    public static Ggml of(String name) {
        return valueOf(name.toUpperCase(java.util.Locale.ROOT));
    }
}
