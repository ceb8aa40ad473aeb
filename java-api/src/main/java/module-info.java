/**
 * Panopt: Hugging Face OPT models in Java, computed by a native library called through the
 * Foreign Function &amp; Memory API.
 *
 * <p>Exported packages: {@code dev.panopt} (configuration, models, sessions, generation),
 * {@code dev.panopt.tokenizer} (OPT's byte-level BPE tokenizer) and {@code dev.panopt.checkpoint}
 * (checkpoint directories and the safetensors, PyTorch and GGUF formats). {@code dev.panopt.internal}
 * is not exported.
 */
module dev.panopt {
    requires dev.panopt.bindings;
    exports dev.panopt;
    exports dev.panopt.tokenizer;
    exports dev.panopt.checkpoint;
}
