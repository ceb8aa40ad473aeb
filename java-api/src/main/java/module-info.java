/**
 * Panopt: Hugging Face OPT models in Java, computed by a native library called through the
 * Foreign Function &amp; Memory API.
 *
 * <p>Exported packages: {@code dev.panopt} (configuration, models, sessions, generation),
 * {@code dev.panopt.tokenizer} (OPT's byte-level BPE tokenizer), {@code dev.panopt.checkpoint}
 * (checkpoint directories and the safetensors, PyTorch and GGUF formats) and {@code dev.panopt.hub}
 * (models from the Hugging Face hub and its cache). {@code dev.panopt.internal} is not exported.
 */
module dev.panopt {
    requires dev.panopt.bindings;
    requires java.net.http;
    exports dev.panopt;
    exports dev.panopt.tokenizer;
    exports dev.panopt.checkpoint;
    exports dev.panopt.hub;
}
