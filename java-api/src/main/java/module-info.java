/**
 * Panopt: Hugging Face OPT models in Java, computed by a native library called through the
 * Foreign Function &amp; Memory API. Only package {@code dev.panopt} is public.
 */
module dev.panopt {
    requires dev.panopt.bindings;
    exports dev.panopt;
}
