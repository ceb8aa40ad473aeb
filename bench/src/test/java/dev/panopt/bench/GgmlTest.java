package dev.panopt.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The ggml block quantizers: layout and round-trip error within ggml's own reference bounds. */
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
