package dev.panopt.bench;

import java.util.List;

/**
 * The transformer shapes the suite measures: the real OPT sizes plus {@code tiny}, a small shape for
 * the smoke pass. GPT-2 twins (llama.cpp, Jlama) use hidden/layers/heads/ffn/vocab as they are; they
 * cannot express OPT-350m's project_in/out (512↔1024) or post-LN, so its twin is a plain GPT-2 of
 * hidden 1024 whose LM head is vocab × 1024.
 */
public record ModelShape(String name, int hidden, int layers, int heads, int ffn, int vocab, int wordEmbedProjDim,
                         boolean preLayerNorm, int maxPositions) {

    public static final ModelShape TINY = new ModelShape("tiny", 64, 2, 4, 256, 1024, 64, true, 2048);
    public static final ModelShape OPT_125M = new ModelShape("opt-125m", 768, 12, 12, 3072, 50272, 768, true, 2048);
    public static final ModelShape OPT_350M = new ModelShape("opt-350m", 1024, 24, 16, 4096, 50272, 512, false, 2048);
    public static final ModelShape OPT_1_3B = new ModelShape("opt-1.3b", 2048, 24, 32, 8192, 50272, 2048, true, 2048);

    public static final List<ModelShape> ALL = List.of(TINY, OPT_125M, OPT_350M, OPT_1_3B);

    public static ModelShape of(String name) {
        for (ModelShape s : ALL) {
            if (s.name.equals(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown model shape " + name + " (known: tiny, opt-125m, opt-350m, opt-1.3b)");
    }

    public boolean hasProjection() {
        return wordEmbedProjDim != hidden;
    }

    /** Matmul weights per decoder layer (q, k, v, out, fc1, fc2). */
    public long layerMatmulParams() {
        return 4L * hidden * hidden + 2L * hidden * ffn;
    }

    /** Matmul weights read per token by OPT: layers, project_in/out, tied LM head (vocab × proj). */
    public long optMatmulParams() {
        long p = layers * layerMatmulParams() + (long) vocab * wordEmbedProjDim;
        if (hasProjection()) {
            p += 2L * hidden * wordEmbedProjDim;
        }
        return p;
    }

    /** Matmul weights read per token by the GPT-2 twin: layers and the LM head (vocab × hidden). */
    public long gpt2MatmulParams() {
        return layers * layerMatmulParams() + (long) vocab * hidden;
    }

    /** KV-cache bytes read per token at context length {@code t}: 2 · layers · hidden · t · bytes. */
    public long kvBytes(long t, int bytesPerElem) {
        return 2L * layers * hidden * t * bytesPerElem;
    }

    /** LM head weights of OPT (vocab × word_embed_proj_dim). */
    public long optHeadParams() {
        return (long) vocab * wordEmbedProjDim;
    }

    /** LM head weights of the GPT-2 twin (vocab × hidden). */
    public long gpt2HeadParams() {
        return (long) vocab * hidden;
    }

    /**
     * Flops of a causal prefill of {@code tokens} tokens per row with logits at the last position
     * only: 2 · (matmul params − head) · tokens + 2 · head + attention (QK^T and PV over the causal
     * triangle, 2 · 2 · layers · hidden · tokens²/2).
     */
    public double prefillFlops(long matmulParams, long headParams, int tokens, int batch) {
        double mm = 2.0 * (matmulParams - headParams) * tokens + 2.0 * headParams;
        double attn = 2.0 * layers * hidden * (double) tokens * (tokens + 1);
        return batch * (mm + attn);
    }
}
