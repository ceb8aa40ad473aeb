package dev.panopt.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The GGUF encodings (Panopt's {@code Quantizer}, ggml's reference quantizers byte for byte): layout, round-trip
 * error, and C's roundf on ties (the Java port this replaced rounded -2.5 to -2 with Math.round).
 */
class GgmlTest {
    @Test
    void q8_0AndQ4_0RoundTrip() {
        float[] x = Weights.all("test", Weights.Kind.LINEAR, 4096);
        for (Ggml t : new Ggml[] {Ggml.Q8_0, Ggml.Q4_0, Ggml.F16}) {
            byte[] b = new byte[(int) t.bytes(x.length)];
            assertEquals(b.length, t.encode(x, x.length, b, 0));
            float[] y = new float[x.length];
            t.decode(b, 0, x.length, y);
            double err = 0, ref = 0;
            for (int i = 0; i < x.length; i++) {
                err += (x[i] - y[i]) * (x[i] - y[i]);
                ref += x[i] * x[i];
            }
            double bound = t == Ggml.Q4_0 ? 1e-2 : t == Ggml.Q8_0 ? 1e-4 : 1e-6;
            assertTrue(err / ref < bound, t + " relative mse " + err / ref);
        }
    }

    @Test
    void q4_0BlockLayout() {
        float[] x = new float[32];
        for (int i = 0; i < 32; i++) x[i] = i - 16; // max |x| = 16 at i = 0 (x = -16): d = -16 / -8 = 2
        byte[] b = new byte[18];
        Ggml.Q4_0.encode(x, 32, b, 0);
        assertEquals(2f, Float.float16ToFloat((short) ((b[0] & 0xFF) | b[1] << 8)));
        // weight 0 → q = -16/2 + 8.5 → 0 (low nibble of byte 0); weight 16 → 0/2 + 8.5 → 8 (high nibble)
        assertEquals(0x80, b[2] & 0xFF);
        float[] y = new float[32];
        Ggml.Q4_0.decode(b, 0, 32, y);
        assertEquals(-16f, y[0]);
        assertEquals(0f, y[16]);
    }

    @Test
    void q8_0RoundsTiesAwayFromZero() {
        float[] x = new float[32];
        x[0] = 127; // d = 1
        x[1] = -2.5f;
        x[2] = 2.5f;
        byte[] b = new byte[34];
        Ggml.Q8_0.encode(x, 32, b, 0);
        assertEquals(-3, b[2 + 1]);
        assertEquals(3, b[2 + 2]);
    }

    @Test
    void encodesAChunkOfALargerBuffer() {
        float[] x = Weights.all("test", Weights.Kind.LINEAR, 96);
        byte[] whole = new byte[(int) Ggml.Q4_0.bytes(96)];
        Ggml.Q4_0.encode(x, 96, whole, 0);
        byte[] part = new byte[5 + (int) Ggml.Q4_0.bytes(64)];
        assertEquals(part.length - 5, Ggml.Q4_0.encode(x, 64, part, 5));
        assertArrayEquals(java.util.Arrays.copyOf(whole, part.length - 5), java.util.Arrays.copyOfRange(part, 5, part.length));
    }

    @Test
    void q8_0BlockLayout() {
        float[] x = new float[32];
        x[3] = 1.27f;
        x[5] = -0.5f;
        byte[] b = new byte[34];
        Ggml.Q8_0.encode(x, 32, b, 0);
        float d = Float.float16ToFloat((short) ((b[0] & 0xFF) | b[1] << 8));
        assertEquals(0.01f, d, 1e-5f);
        assertEquals(127, b[2 + 3]);
        assertEquals(-50, b[2 + 5]);
        assertArrayEquals(new byte[] {0, 0, 0}, new byte[] {b[2], b[3], b[4]});
    }
}
