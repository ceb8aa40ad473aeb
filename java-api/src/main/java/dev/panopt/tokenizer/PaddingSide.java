package dev.panopt.tokenizer;

/** Where padding goes in a batch row. OPT's Hugging Face tokenizer pads on the {@link #RIGHT}. */
public enum PaddingSide {
    /** Padding before the tokens (what batched generation wants). */
    LEFT,
    /** Padding after the tokens (the Hugging Face default for OPT). */
    RIGHT
}
