package de.kherud.llama;

import java.util.Arrays;

/**
 * Helper in the binding's package: the binding takes prompts only as strings, but llama.cpp's
 * server (which it wraps) accepts a JSON array of token ids as {@code prompt}; the parameter map is
 * package-private, so exact token ids need this class. Used by the benchmarks only.
 */
public final class TokenPrompts {
    private TokenPrompts() {}

    public static InferenceParameters withTokens(InferenceParameters p, int[] ids) {
        p.parameters.put("prompt", Arrays.toString(ids));
        return p;
    }
}
