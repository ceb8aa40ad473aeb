package dev.panopt;

/** Why a generated row ended, or {@link #UNFINISHED} while it has not. */
public enum FinishReason {
    /**
     * The row has not ended: on a {@link GeneratedToken}, more tokens of the row follow; in a
     * {@link TokenStream#result()} taken before the stream was exhausted (after a {@code break} or
     * {@link TokenStream#close()}), the row was cut short there.
     */
    UNFINISHED,
    /** An EOS token was produced (kept in the output, as HF does). */
    EOS,
    /** One of {@link GenerationConfig#stopTokenIds()} was produced (kept). */
    STOP_TOKEN,
    /** The row's text came to contain one of {@link GenerationConfig#stopStrings()} (kept). */
    STOP_STRING,
    /** {@link GenerationConfig#maxNewTokens()} tokens were produced (HF's "length"). */
    MAX_NEW_TOKENS,
    /**
     * The generation was stopped early: the generating thread was interrupted (its interrupt status
     * stays set) or {@link TokenStream#cancel()} was called. The row keeps the tokens made before.
     */
    CANCELLED
}
