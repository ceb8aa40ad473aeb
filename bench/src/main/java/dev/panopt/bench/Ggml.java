package dev.panopt.bench;

import dev.panopt.DType;
import dev.panopt.Quantizer;
import java.util.Arrays;

/**
 * ggml tensor types the suite writes: each one's storage (Panopt's {@link DType}, the same layouts byte for
 * byte, which also knows its GGUF type id) and its encoding by {@link Quantizer}. For the block formats that is
 * the bytes of ggml's {@code quantize_row_*_ref} (proven against ggml's own code by java-api's
 * QuantizerGgmlTest), so the llama.cpp twins hold exactly the weights llama.cpp's tools would write for the
 * same values. Their {@code general.file_type} is {@link dev.panopt.checkpoint.OptGguf#fileType}.
 */
public enum Ggml {
    F32(DType.F32), F16(DType.F16), Q4_0(DType.Q4_0), Q4_1(DType.Q4_1), Q5_0(DType.Q5_0), Q5_1(DType.Q5_1), Q8_0(DType.Q8_0);

    /** Panopt's name for the same storage (its sizes, its GGUF type id). */
    public final DType dtype;

    Ggml(DType dtype) {
        this.dtype = dtype;
    }

    public long bytes(long elements) {
        return dtype.bytes(elements);
    }

    /** Encodes {@code n} floats (a multiple of the block size) into {@code out} at {@code off}; returns bytes written. */
    public int encode(float[] x, int n, byte[] out, int off) {
        byte[] b = Quantizer.quantize(dtype, n == x.length ? x : Arrays.copyOf(x, n));
        System.arraycopy(b, 0, out, off, b.length);
        return b.length;
    }

    /** Decodes {@code n} elements at {@code off} of {@code in} into {@code x} (for tests). */
    public void decode(byte[] in, int off, int n, float[] x) {
        float[] y = Quantizer.dequantize(dtype, Arrays.copyOfRange(in, off, off + (int) bytes(n)));
        System.arraycopy(y, 0, x, 0, n);
    }

    public static Ggml of(String name) {
        return valueOf(name.toUpperCase(java.util.Locale.ROOT));
    }
}
