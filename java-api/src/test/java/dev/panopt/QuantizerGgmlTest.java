package dev.panopt;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link Quantizer} against ggml's own code: the de.kherud:llama 4.2.0 jar ships llama.cpp b4916 as
 * {@code libjllama.so} (ggml linked in, its {@code quantize_row_*_ref} and {@code dequantize_row_*}
 * exported; ggml-quants.c built for baseline x86-64: SSE2, no FMA). For every block format, seeded
 * random rows of several lengths and kinds (outliers, one-signed extremes, tiny and subnormal values,
 * values near fp16's limits, exact ties of each format's rounding, constant and zero rows, NaN and
 * infinities) must give ggml's bytes exactly, and ggml's bytes (and random bytes) must decode to ggml's
 * floats bit for bit.
 *
 * <p>Said here rather than hidden: ggml leaves the 16 block sums of an all-zero Q8_K block unwritten
 * (whatever the buffer held stays; Panopt writes their value, 0), so ggml's output buffer starts zeroed;
 * ggml has no {@code dequantize_row_q8_1}, so Q8_1 is compared on the quantizing side only; and NaN
 * inputs are compared where the result is defined by the arithmetic: any number of default NaNs (Java's
 * {@code Float.NaN}, x86's negative one) beside infinities, and NaNs with payload bits one per 16
 * elements. When two NaNs with different bits meet in one operation, x86 returns the first operand's, and
 * which operand is first is the compiler's choice, in ggml's build as in Panopt's, so a payload can
 * reach a level differently; {@link #nanPayloadsMeetingAreTheCompilersChoice} pins such a case.
 */
@EnabledOnOs(value = OS.LINUX, architectures = "amd64")
class QuantizerGgmlTest {
    private static final String LIBRARY = "de/kherud/llama/Linux/x86_64/libjllama.so";
    private static Arena arena;
    private static Path dir;
    private static SymbolLookup ggml;

    @BeforeAll
    static void loadGgml() throws Throwable {
        dir = Files.createTempDirectory("panopt-ggml");
        Path lib = dir.resolve("libjllama.so");
        try (InputStream in = QuantizerGgmlTest.class.getClassLoader().getResourceAsStream(LIBRARY)) {
            assertNotNull(in, LIBRARY + " not on the test class path (de.kherud:llama test dependency)");
            Files.copy(in, lib);
        }
        arena = Arena.ofShared();
        ggml = SymbolLookup.libraryLookup(lib, arena);
        // Fills ggml's fp16 -> f32 table (ggml_init), through which dequantize_row_* reads scales.
        handle("llama_backend_init", FunctionDescriptor.ofVoid()).invokeExact();
    }

    @AfterAll
    static void unloadGgml() throws IOException {
        if (arena != null) {
            arena.close();
            HANDLES.clear();
        }
        if (dir != null) {
            Files.deleteIfExists(dir.resolve("libjllama.so"));
            Files.deleteIfExists(dir);
        }
    }

    private static final Map<String, MethodHandle> HANDLES = new ConcurrentHashMap<>();

    private static MethodHandle handle(String name, FunctionDescriptor d) {
        return HANDLES.computeIfAbsent(name, n -> Linker.nativeLinker().downcallHandle(
                ggml.find(n).orElseThrow(() -> new AssertionError(n + " not exported by libjllama.so")), d));
    }

    private static String ggmlName(DType t) {
        String n = t.name().toLowerCase(Locale.ROOT);
        return n.endsWith("_k") ? n.substring(0, n.length() - 1) + "K" : n;
    }

    private static byte[] ggmlQuantize(DType t, float[] x) throws Throwable {
        MethodHandle q = handle("quantize_row_" + ggmlName(t) + "_ref", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, JAVA_LONG));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment src = a.allocateFrom(JAVA_FLOAT, x);
            MemorySegment dst = a.allocate(t.bytes(x.length), 16); // zeroed: see the class comment on Q8_K
            q.invokeExact(src, dst, (long) x.length);
            return dst.toArray(JAVA_BYTE);
        }
    }

    private static float[] ggmlDequantize(DType t, byte[] b) throws Throwable {
        MethodHandle d = handle("dequantize_row_" + ggmlName(t), FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, JAVA_LONG));
        long n = (long) b.length / t.blockBytes() * t.blockSize();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment src = a.allocateFrom(JAVA_BYTE, b);
            MemorySegment dst = a.allocate(n * 4, 16);
            d.invokeExact(src, dst, n);
            return dst.toArray(JAVA_FLOAT);
        }
    }

    /** Panopt's quantizer on {@code rows} rows of {@code x.length / rows} values. */
    private static byte[] panoptQuantize(DType t, float[] x, int rows) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment src = a.allocateFrom(JAVA_FLOAT, x);
            long cols = x.length / rows;
            MemorySegment dst = a.allocate(rows * t.bytes(cols), 16);
            Quantizer.quantize(t, src, rows, cols, dst);
            return dst.toArray(JAVA_BYTE);
        }
    }

    // ---- inputs ----

    /** One named row of test values (its length a whole number of blocks). */
    record Row(String kind, float[] x, int rows) {}

    private static final float NAN_NEGATIVE_DEFAULT = Float.intBitsToFloat(0xffc00000); // what x86 operations make
    private static final float NAN_PAYLOAD = Float.intBitsToFloat(0x7fc00123);
    private static final float NAN_SIGNALING = Float.intBitsToFloat(0x7f800001);
    private static final float NAN_NEGATIVE_PAYLOAD = Float.intBitsToFloat(0xff812345);

    /** Levels a side of each format's symmetric grid, or the top level of an offset one, for exact ties. */
    private static int levels(DType t) {
        return switch (t) {
            case Q8_0, Q8_1, Q8_K -> 127;
            case Q4_0 -> 8;
            case Q5_0 -> 16;
            case Q4_1 -> 15;
            case Q5_1 -> 31;
            default -> 32;
        };
    }

    private static List<Row> rows(DType t, long seed) {
        Random r = new Random(seed);
        int bs = t.blockSize();
        int[] blockCounts = bs == 32 ? new int[] {1, 2, 3, 5, 9} : new int[] {1, 2, 3};
        List<Row> out = new ArrayList<>();
        for (int blocks : blockCounts) {
            for (int rows : new int[] {1, 3}) {
                int n = blocks * bs * rows;
                out.add(new Row("gaussian with outliers", fill(n, i -> (float) r.nextGaussian() * (r.nextInt(50) == 0 ? 30 : 1)), rows));
                out.add(new Row("positive", fill(n, i -> 0.01f + r.nextFloat() * 3), rows));
                out.add(new Row("negative", fill(n, i -> -0.01f - r.nextFloat() * 3), rows));
                out.add(new Row("one large extreme", extremes(r, n, bs), rows));
                for (float scale : new float[] {1e-4f, 1e-6f, 1e-20f, 1e-38f, 1e-44f, 1e3f, 3e4f, 5e5f}) {
                    out.add(new Row("gaussian x " + scale, fill(n, i -> (float) r.nextGaussian() * scale), rows));
                }
                out.add(new Row("exact ties", ties(r, n, bs, levels(t)), rows));
                out.add(new Row("integers", fill(n, i -> r.nextInt(33) - 16), rows));
                float c = (float) r.nextGaussian();
                out.add(new Row("constant", fill(n, i -> c), rows));
                out.add(new Row("zeros and signed zeros", fill(n, i -> r.nextBoolean() ? 0f : -0f), rows));
                out.add(new Row("sparse", fill(n, i -> r.nextInt(4) == 0 ? (float) r.nextGaussian() : 0f), rows));
                out.add(new Row("NaN and infinities", specials(r, n, bs, new float[] {Float.NaN, NAN_NEGATIVE_DEFAULT,
                        Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MAX_VALUE, -Float.MAX_VALUE, 1e30f, 65504f,
                        65520f}), rows));
                out.add(new Row("NaN payloads", payloads(r, n), rows));
            }
        }
        return out;
    }

    private interface Gen {
        float at(int i);
    }

    private static float[] fill(int n, Gen g) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = g.at(i);
        }
        return x;
    }

    /** Gaussian blocks with one element of each block far out, of either sign. */
    private static float[] extremes(Random r, int n, int bs) {
        float[] x = fill(n, i -> (float) r.nextGaussian());
        for (int b = 0; b < n; b += bs) {
            x[b + r.nextInt(bs)] = (r.nextBoolean() ? 1 : -1) * (50 + 1000 * r.nextFloat());
        }
        return x;
    }

    /**
     * Values (k + 1/2) s on a power-of-two grid s whose block extreme makes the format's scale exactly
     * s (or -s): x/d lands on the halfway points the rounding has to break (roundf away from zero,
     * floor(v + 0.5) upward, nearest_int to even), and for the K-quants halves of their sub-block grids.
     */
    private static float[] ties(Random r, int n, int bs, int levels) {
        float[] x = new float[n];
        for (int b = 0; b < n; b += bs) {
            float s = (float) Math.scalb(1.0, r.nextInt(16) - 10);
            boolean offset = levels == 15 || levels == 31; // Q4_1 / Q5_1: span [0, levels s]
            for (int i = 0; i < bs; i++) {
                int k = offset ? r.nextInt(levels) : r.nextInt(2 * levels) - levels;
                x[b + i] = (k + 0.5f) * s;
            }
            x[b + r.nextInt(bs)] = offset ? levels * s : (r.nextBoolean() ? 1 : -1) * levels * s;
            if (offset) {
                x[b + r.nextInt(bs)] = 0f;
            }
        }
        return x;
    }

    /** Gaussian rows with a few of {@code special} at random places (first and last of a block included). */
    private static float[] specials(Random r, int n, int bs, float[] special) {
        float[] x = fill(n, i -> (float) r.nextGaussian());
        for (int b = 0; b < n; b += bs) {
            int k = r.nextInt(4);
            for (int j = 0; j < k; j++) {
                int at = switch (r.nextInt(4)) {
                    case 0 -> b;
                    case 1 -> b + bs - 1;
                    default -> b + r.nextInt(bs);
                };
                x[at] = special[r.nextInt(special.length)];
            }
        }
        return x;
    }

    /** Gaussian rows with at most one NaN (any bits: payloads, signaling, either sign) per 16 elements. */
    private static float[] payloads(Random r, int n) {
        float[] nans = {Float.NaN, NAN_NEGATIVE_DEFAULT, NAN_PAYLOAD, NAN_SIGNALING, NAN_NEGATIVE_PAYLOAD};
        float[] x = fill(n, i -> (float) r.nextGaussian());
        for (int g = 0; g < n; g += 16) {
            if (r.nextInt(3) == 0) {
                x[g + (r.nextBoolean() ? 0 : r.nextInt(16))] = nans[r.nextInt(nans.length)];
            }
        }
        return x;
    }

    // ---- the comparisons ----

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_1", "Q4_K", "Q5_K", "Q6_K", "Q8_K"})
    void quantizeGivesGgmlBytes(DType t) throws Throwable {
        int compared = 0;
        for (Row row : rows(t, 1000 + t.ordinal())) {
            byte[] want = ggmlQuantize(t, row.x);
            byte[] got = panoptQuantize(t, row.x, row.rows);
            assertSameBytes(t, row, want, got);
            compared++;
        }
        assertTrue(compared > 100, "rows compared: " + compared);
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K", "Q8_K"})
    void dequantizeGivesGgmlFloats(DType t) throws Throwable {
        List<byte[]> inputs = new ArrayList<>();
        for (Row row : rows(t, 2000 + t.ordinal())) {
            inputs.add(ggmlQuantize(t, row.x));
        }
        Random r = new Random(3000 + t.ordinal());
        for (int k = 0; k < 200; k++) { // arbitrary bytes: every field pattern, NaN/inf/subnormal scales
            byte[] b = new byte[t.blockBytes() * (1 + r.nextInt(3))];
            r.nextBytes(b);
            if (t == DType.Q8_K && k % 2 == 0) { // also ordinary f32 scales
                int bits = Float.floatToRawIntBits((float) r.nextGaussian());
                for (int i = 0; i < 4; i++) {
                    b[i] = (byte) (bits >>> (8 * i));
                }
            }
            inputs.add(b);
        }
        for (byte[] b : inputs) {
            float[] want = ggmlDequantize(t, b);
            float[] got = Quantizer.dequantize(t, b);
            for (int i = 0; i < want.length; i++) {
                if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                    int block = i / t.blockSize();
                    fail(String.format(Locale.ROOT, "%s element %d (block %d): ggml %s (0x%08x), Panopt %s (0x%08x); block bytes %s",
                            t, i, block, want[i], Float.floatToRawIntBits(want[i]), got[i], Float.floatToRawIntBits(got[i]),
                            hex(b, block * t.blockBytes(), t.blockBytes())));
                }
            }
        }
    }

    /** Every fp16 scale pattern (normal, subnormal, zeros, infinities, NaNs) decodes as in ggml. */
    @Test
    void everyFp16ScaleDecodesAsGgml() throws Throwable {
        DType t = DType.Q8_0;
        byte[] b = new byte[65536 * t.blockBytes()];
        for (int h = 0; h < 65536; h++) {
            int o = h * t.blockBytes();
            b[o] = (byte) h;
            b[o + 1] = (byte) (h >>> 8);
            for (int j = 0; j < 32; j++) {
                b[o + 2 + j] = (byte) (j * 8 - 128 + h);
            }
        }
        float[] want = ggmlDequantize(t, b);
        float[] got = Quantizer.dequantize(t, b);
        for (int i = 0; i < want.length; i++) {
            int at = i;
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                    () -> "fp16 scale 0x" + Integer.toHexString(at / 32) + " element " + at % 32);
        }
    }

    /**
     * Two NaNs with different bits meeting in one operation: x86 returns the first operand's, and which
     * operand is first is a register choice of the compiler. Here a NaN with a payload sits in a Q4_K/Q5_K
     * super-block whose dmin overflows fp16 (a sub-block min of -inf), so every offset dm = inf * 0 is
     * x86's default NaN and the element's level comes from x + dm, NaN + NaN. ggml's build adds x + dm for
     * elements 0-27 of a sub-block (level from the payload: the top one) and dm + x for 28-31 (level 0);
     * Panopt's level for that element is its own compiler's choice. Everything else in the block is
     * decided by the arithmetic and must be ggml's, byte for byte; with the default NaN (level 0 either
     * way) the whole block is.
     */
    @Test
    void nanPayloadsMeetingAreTheCompilersChoice() throws Throwable {
        for (DType t : new DType[] {DType.Q4_K, DType.Q5_K}) {
            float[] x = fill(256, i -> (float) Math.sin(i));
            x[100] = Float.NEGATIVE_INFINITY; // sub-block 3's min: dmin = inf, every dm = inf * 0 = NaN
            for (int pos : new int[] {3, 30, 200, 255}) {
                float[] y = x.clone();
                y[pos] = Float.NaN;
                assertSameBytes(t, new Row("default NaN at " + pos + " beside -inf", y, 1), ggmlQuantize(t, y), panoptQuantize(t, y, 1));
                y[pos] = NAN_PAYLOAD;
                byte[] want = ggmlQuantize(t, y);
                byte[] got = panoptQuantize(t, y, 1);
                // The element's level: a nibble of qs (groups of 64: low nibbles the first 32, high the
                // next 32), for Q5_K also bit 2g or 2g + 1 of qh[l].
                int g = pos / 64, l = pos % 32;
                boolean high = pos % 64 >= 32;
                int qs = (t == DType.Q4_K ? 16 : 48) + 32 * g + l;
                byte[] wantMasked = want.clone(), gotMasked = got.clone();
                int nibble = high ? 0xf0 : 0x0f;
                wantMasked[qs] &= (byte) ~nibble;
                gotMasked[qs] &= (byte) ~nibble;
                if (t == DType.Q5_K) {
                    int bit = 1 << (2 * g + (high ? 1 : 0));
                    wantMasked[16 + l] &= (byte) ~bit;
                    gotMasked[16 + l] &= (byte) ~bit;
                }
                assertSameBytes(t, new Row("payload NaN at " + pos + " beside -inf, its level masked", y, 1), wantMasked, gotMasked);
                int ggmlLevel = (want[qs] & nibble) >>> (high ? 4 : 0);
                assertEquals(pos % 32 < 28 ? 15 : 0, ggmlLevel, t + ": ggml's level of the payload NaN at " + pos);
            }
        }
    }

    private static void assertSameBytes(DType t, Row row, byte[] want, byte[] got) {
        assertEquals(want.length, got.length, t + " " + row.kind + ": length");
        for (int i = 0; i < want.length; i++) {
            if (want[i] != got[i]) {
                int block = i / t.blockBytes();
                int b0 = block * t.blockSize();
                StringBuilder in = new StringBuilder();
                for (int j = b0; j < b0 + t.blockSize(); j++) {
                    in.append(Integer.toHexString(Float.floatToRawIntBits(row.x[j]))).append(' ');
                }
                fail(String.format(Locale.ROOT, "%s %s (%d values, %d rows): byte %d (block %d, offset %d) ggml %02x, Panopt %02x%n"
                                + "ggml   %s%nPanopt %s%ninput bits %s",
                        t, row.kind, row.x.length, row.rows, i, block, i % t.blockBytes(), want[i], got[i],
                        hex(want, block * t.blockBytes(), t.blockBytes()), hex(got, block * t.blockBytes(), t.blockBytes()), in));
            }
        }
    }

    private static String hex(byte[] b, int off, int len) {
        StringBuilder s = new StringBuilder();
        for (int i = off; i < off + len; i++) {
            s.append(String.format(Locale.ROOT, "%02x", b[i]));
        }
        return s.toString();
    }
}
