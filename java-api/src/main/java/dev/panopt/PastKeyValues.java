package dev.panopt;

import java.util.List;

/**
 * A copy of a session's KV cache in HF's {@code past_key_values} layout: for each layer, keys and
 * values [batch, num_heads, past_length, head_dim], keys unscaled. The views are owned by the
 * session; close this to free them early. Immutable and thread-safe.
 */
public record PastKeyValues(List<FloatTensor> keys, List<FloatTensor> values) implements AutoCloseable {
    public PastKeyValues {
        keys = List.copyOf(keys);
        values = List.copyOf(values);
        if (keys.size() != values.size()) {
            throw new IllegalArgumentException("keys and values differ in layer count");
        }
    }

    /** Layers in the cache. */
    public int numLayers() {
        return keys.size();
    }

    @Override
    public void close() {
        if (!keys.isEmpty()) {
            keys.get(0).release();
        }
    }
}
