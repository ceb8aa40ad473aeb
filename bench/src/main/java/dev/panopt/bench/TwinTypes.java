package dev.panopt.bench;

import dev.panopt.DType;
import dev.panopt.Quantization;

/**
 * The ggml type of each matrix of a GPT-2 twin (the files llama.cpp runs in the suite) for a format name: a
 * plain {@link Ggml} type for every matrix, the LM head included (llama.cpp's {@code --pure}), or
 * {@code Q4_K_M}, the mix llama.cpp's quantizer ({@code llama_tensor_get_type}) gives a GPT-2 model:
 * Q4_K, except the fused {@code attn_qkv} in Q5_K, {@code ffn_down} in Q6_K on the
 * {@linkplain Quantization#moreBitsLayer more-bits layers} and {@code output} in Q6_K. Panopt's Q4_K_M
 * preset is the same policy on OPT's separate q/k/v (v in Q6_K on the more-bits layers, q and k in Q4_K),
 * so the twin streams a few percent more bytes per token than Panopt; the floors count each side's own.
 */
final class TwinTypes {
    private TwinTypes() {}

    /** Format names the twins come in. */
    static boolean isMix(String format) {
        return format.equalsIgnoreCase("Q4_K_M");
    }

    /**
     * @param tensor the GGUF name without {@code blk.N.} and {@code .weight} ({@code attn_qkv}, {@code ffn_down},
     *               {@code output}, {@code token_embd}, ...)
     * @param layer  the block, or -1 outside the blocks
     */
    static DType of(String format, String tensor, int layer, int layers) {
        if (!isMix(format)) {
            return Ggml.of(format).dtype;
        }
        return switch (tensor) {
            case "output" -> DType.Q6_K;
            case "attn_qkv" -> DType.Q5_K;
            case "ffn_down" -> Quantization.moreBitsLayer(layer, layers) ? DType.Q6_K : DType.Q4_K;
            default -> DType.Q4_K;
        };
    }

    /** The matmul bytes a decode step of the twin streams: every block's four matrices and the LM head. */
    static long matmulBytes(ModelShape s, String format) {
        int n = s.layers();
        long h = s.hidden(), f = s.ffn();
        long b = of(format, "output", -1, n).bytes(s.vocab() * h);
        for (int l = 0; l < n; l++) {
            b += of(format, "attn_qkv", l, n).bytes(3 * h * h) + of(format, "attn_output", l, n).bytes(h * h)
                    + of(format, "ffn_up", l, n).bytes(f * h) + of(format, "ffn_down", l, n).bytes(h * f);
        }
        return b;
    }

    /** The twin's {@code general.file_type}. */
    static int fileType(String format) {
        return isMix(format) ? dev.panopt.checkpoint.OptGguf.fileType(Quantization.Q4_K_M).orElseThrow()
                : dev.panopt.checkpoint.OptGguf.fileType(Ggml.of(format).dtype).orElseThrow();
    }
}
