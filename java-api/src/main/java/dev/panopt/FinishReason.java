package dev.panopt;

/** Why a generated row ended. */
public enum FinishReason {
    /** An EOS token was produced (kept in the output, as HF does). */
    EOS,
    /** One of {@link GenerationConfig#stopTokenIds()} was produced (kept). */
    STOP_TOKEN,
    /** The row's text came to contain one of {@link GenerationConfig#stopStrings()} (kept). */
    STOP_STRING,
    /** {@link GenerationConfig#maxNewTokens()} tokens were produced (HF's "length"). */
    MAX_NEW_TOKENS
}
