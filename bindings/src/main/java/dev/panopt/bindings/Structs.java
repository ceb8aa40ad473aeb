package dev.panopt.bindings;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/**
 * Memory layouts of the POD structs of panopt.h, field for field, with the byte offsets the
 * callers write. The sizes are pinned by static_asserts in native/src/api.cpp and checked against
 * the loaded library by the bindings tests.
 */
public final class Structs {
    private Structs() {}

    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT;
    private static final ValueLayout PTR = ValueLayout.ADDRESS;

    /** {@code panopt_config}. */
    public static final StructLayout CONFIG = MemoryLayout.structLayout(
            I32.withName("vocab_size"),
            I32.withName("hidden_size"),
            I32.withName("num_hidden_layers"),
            I32.withName("num_attention_heads"),
            I32.withName("ffn_dim"),
            I32.withName("max_position_embeddings"),
            I32.withName("word_embed_proj_dim"),
            I32.withName("do_layer_norm_before"),
            I32.withName("enable_bias"),
            I32.withName("layer_norm_elementwise_affine"),
            I32.withName("has_final_layer_norm"),
            I32.withName("activation"),
            I32.withName("head_size"),
            I32.withName("head_has_bias"),
            F32.withName("layer_norm_eps"),
            I32.withName("reserved")).withName("panopt_config");

    /** {@code panopt_session_options}. */
    public static final StructLayout SESSION_OPTIONS = MemoryLayout.structLayout(
            I32.withName("max_batch"),
            I32.withName("max_seq_len"),
            I32.withName("n_threads"),
            I32.withName("isa")).withName("panopt_session_options");

    /** {@code panopt_forward_args}. */
    public static final StructLayout FORWARD_ARGS = MemoryLayout.structLayout(
            I32.withName("batch"),
            I32.withName("seq_len"),
            PTR.withName("input_ids"),
            PTR.withName("inputs_embeds"),
            PTR.withName("attention_mask"),
            PTR.withName("head_mask"),
            I32.withName("use_cache"),
            I32.withName("reserved"),
            PTR.withName("head_positions"),
            PTR.withName("head_out"),
            PTR.withName("hidden_states"),
            PTR.withName("attentions")).withName("panopt_forward_args");

    /** Byte offset of a field of a struct layout. */
    public static long offset(StructLayout layout, String field) {
        return layout.byteOffset(PathElement.groupElement(field));
    }
}
