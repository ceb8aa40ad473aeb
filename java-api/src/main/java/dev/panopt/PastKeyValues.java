package dev.panopt;

import java.util.List;

/**
 * A copy of a session's KV cache in HF's {@code past_key_values} layout: for each layer, keys and
 * values [batch, num_heads, past_length, head_dim], keys unscaled. The views are owned by the
 * session; close this to free them early. Made only by {@link Session#pastKeyValues()}; immutable
 * and thread-safe; equality is identity.
 */
public final class PastKeyValues implements AutoCloseable {
    private final List<FloatTensor> keys;
    private final List<FloatTensor> values;

    PastKeyValues(List<FloatTensor> keys, List<FloatTensor> values) {
        this.keys = List.copyOf(keys);
        this.values = List.copyOf(values);
        if (this.keys.size() != this.values.size()) {
            throw new IllegalArgumentException("keys and values differ in layer count");
        }
    }

    /** @return per layer, the keys [batch, num_heads, past_length, head_dim] */
    public List<FloatTensor> keys() {
        return keys;
    }

    /** @return per layer, the values [batch, num_heads, past_length, head_dim] */
    public List<FloatTensor> values() {
        return values;
    }

    /** @return the layers in the cache */
    public int numLayers() {
        return keys.size();
    }

    /** Releases the native memory of this copy (idempotent); its views throw afterwards. */
    @Override
    public void close() {
        if (!keys.isEmpty()) {
            keys.get(0).release();
        }
    }

    @Override
    public String toString() {
        return "PastKeyValues[" + keys.size() + " layers" + (keys.isEmpty() ? "" : ", keys " + keys.get(0)) + "]";
    }
}
