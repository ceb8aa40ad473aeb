package dev.panopt.tokenizer;

/**
 * A token named by a tokenizer file: its content, whether matching it in text strips whitespace to its
 * left or right, whether it is special (dropped by {@code skipSpecialTokens}), and the id the file gives
 * it (-1 when the file gives none and the token gets the next free id).
 */
record TokenSpec(String content, boolean lstrip, boolean rstrip, boolean special, int id) {
    /** A special token without strip flags or id, as a role's plain string names it. */
    static TokenSpec special(String content) {
        return new TokenSpec(content, false, false, true, -1);
    }
}
