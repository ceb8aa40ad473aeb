package dev.panopt.tokenizer;

/**
 * Which end of a sequence truncation removes tokens from (Hugging Face's {@code truncation_side}).
 * The special tokens the tokenizer inserts (OPT's BOS) are never removed: they are added after truncation.
 * An enum: immutable and thread-safe.
 */
public enum TruncationSide {
    /** Tokens are removed from the start, keeping the end (what a long prompt wants). */
    LEFT,
    /** Tokens are removed from the end, keeping the start (the Hugging Face default). */
    RIGHT
}
