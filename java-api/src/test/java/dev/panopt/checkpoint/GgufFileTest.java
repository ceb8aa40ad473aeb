package dev.panopt.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.DType;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The GGUF reader and writer: every value type and tensor layout round trips; every malformed file is rejected by name. */
class GgufFileTest {
    @TempDir
    Path dir;

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    @Test
    void writerRoundTripsEveryValueTypeAndTensor() throws IOException {
        byte[] f32 = random(2 * 3 * 4, 1);
        byte[] f16 = random(4 * 2, 2);
        byte[] q80 = random(3 * 34, 3);
        byte[] i32 = random(5 * 4, 4);
        GgufWriter w = new GgufWriter()
                .putString("general.architecture", "test")
                .putString("s.unicode", "Ġworld é 😀")
                .putBool("b.true", true)
                .putBool("b.false", false)
                .putFloat32("f.32", -1.5e-7f)
                .putFloat64("f.64", Math.PI)
                .putUInt32("u.32", 0xffff_ffffL)
                .putStringArray("a.strings", List.of("a", "", "Ġthe", "😀"))
                .putIntegerArray("a.i32", GgufType.INT32, new long[] {Integer.MIN_VALUE, 0, Integer.MAX_VALUE})
                .putIntegerArray("a.u8", GgufType.UINT8, new long[] {0, 255})
                .putIntegerArray("a.empty", GgufType.INT64, new long[0]);
        for (GgufType t : GgufType.values()) {
            if (t.isInteger()) {
                w.putInteger("min." + t, t, t.min()).putInteger("max." + t, t, t.max());
            }
        }
        w.addTensor("w.f32", DType.F32, new long[] {2, 3}, f32)
                .addTensor("w.f16", DType.F16, new long[] {4}, f16)
                .addTensor("w.q8_0", DType.Q8_0, new long[] {3, 32}, q80)
                .addTensor("w.i32", DType.I32, new long[] {1, 1, 1, 5}, i32);
        Path p = dir.resolve("all.gguf");
        w.write(p);
        try (GgufFile g = GgufFile.open(p)) {
            assertEquals(3, g.version());
            assertEquals(32, g.alignment());
            assertEquals(0, g.dataOffset() % 32);
            assertEquals("test", g.getString("general.architecture"));
            assertEquals("Ġworld é 😀", g.getString("s.unicode"));
            assertTrue(g.getBoolean("b.true"));
            assertEquals(false, g.getBoolean("b.false"));
            assertEquals(-1.5e-7f, (float) g.getDouble("f.32"));
            assertEquals(Math.PI, g.getDouble("f.64"));
            assertEquals(0xffff_ffffL, g.getLong("u.32"));
            assertEquals(List.of("a", "", "Ġthe", "😀"), g.getStringArray("a.strings"));
            assertArrayEquals(new long[] {Integer.MIN_VALUE, 0, Integer.MAX_VALUE}, g.getLongArray("a.i32"));
            assertArrayEquals(new long[] {0, 255}, g.getLongArray("a.u8"));
            assertEquals(GgufType.INT64, g.arrayType("a.empty"));
            assertEquals(0, g.arrayLength("a.empty"));
            for (GgufType t : GgufType.values()) {
                if (t.isInteger()) {
                    assertEquals(Optional.of(t), g.type("min." + t));
                    assertEquals(t.min(), g.getLong("min." + t), t.toString());
                    assertEquals(t.max(), g.getLong("max." + t), t.toString());
                }
            }
            assertEquals(List.of("general.architecture", "s.unicode"), new ArrayList<>(g.keys()).subList(0, 2));
            assertEquals(List.of("w.f32", "w.f16", "w.q8_0", "w.i32"), new ArrayList<>(g.tensorNames()));
            long expectOffset = 0;
            for (String n : g.tensorNames()) {
                TensorInfo t = g.tensor(n);
                assertEquals(expectOffset, t.offset() - g.dataOffset(), n + ": ggml's layout is sequential, padded");
                expectOffset += (t.byteSize() + 31) / 32 * 32;
            }
            assertArrayEquals(new long[] {2, 3}, g.tensor("w.f32").shape());
            assertArrayEquals(new long[] {3, 32}, g.tensor("w.q8_0").shape());
            assertArrayEquals(new long[] {1, 1, 1, 5}, g.tensor("w.i32").shape());
            assertEquals(DType.Q8_0, g.tensor("w.q8_0").dtype());
            assertArrayEquals(f32, g.data("w.f32").toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(f16, g.data("w.f16").toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(q80, g.data("w.q8_0").toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(i32, g.data("w.i32").toArray(ValueLayout.JAVA_BYTE));
            assertEquals(Files.size(p), expectOffset + g.dataOffset(), "the last tensor is padded too");
        }
    }

    @Test
    void alignmentKeyAlignsTheData() throws IOException {
        Path p = dir.resolve("a64.gguf");
        new GgufWriter().putUInt32(GgufFile.ALIGNMENT_KEY, 64).putString("k", "odd-length value.")
                .addTensor("a", DType.F32, new long[] {3}, new byte[12])
                .addTensor("b", DType.F32, new long[] {1}, new byte[] {1, 2, 3, 4}).write(p);
        try (GgufFile g = GgufFile.open(p)) {
            assertEquals(64, g.alignment());
            assertEquals(0, g.dataOffset() % 64);
            assertEquals(64, g.tensor("b").offset() - g.dataOffset());
            assertArrayEquals(new byte[] {1, 2, 3, 4}, g.data("b").toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void fileWithoutTensorsHasNoPadding() throws IOException {
        byte[] b = GgufBytes.header(3, 0, 1).kvStr("k", "v").toByteArray();
        Path p = Files.write(dir.resolve("none.gguf"), b);
        try (GgufFile g = GgufFile.open(p)) {
            assertEquals(b.length, g.dataOffset());
            assertTrue(g.tensorNames().isEmpty());
        }
    }

    @Test
    void gettersNameTheKeyOfAWrongTypeOrAMissingKey() throws IOException {
        Path p = dir.resolve("k.gguf");
        new GgufWriter().putString("s", "x").putUInt32("u", 1).putStringArray("a", List.of("x")).write(p);
        try (GgufFile g = GgufFile.open(p)) {
            assertTrue(assertThrows(CheckpointException.class, () -> g.getLong("s")).getMessage()
                    .contains("key s has type STRING, expected an integer"));
            assertTrue(assertThrows(CheckpointException.class, () -> g.getString("u")).getMessage().contains("key u"));
            assertTrue(assertThrows(CheckpointException.class, () -> g.getLongArray("a")).getMessage()
                    .contains("key a has type ARRAY of STRING"));
            assertTrue(assertThrows(CheckpointException.class, () -> g.getDouble("missing")).getMessage()
                    .contains("missing key missing"));
            assertTrue(assertThrows(CheckpointException.class, () -> g.arrayType("s")).getMessage().contains("key s"));
            assertEquals(Optional.empty(), g.type("missing"));
        }
        GgufFile g = GgufFile.open(p);
        g.close();
        g.close();
        assertThrows(IllegalStateException.class, g::keys);
        assertThrows(IllegalStateException.class, () -> g.getString("s"));
    }

    @Test
    void stringArraysAreCheckedWhenRead() throws IOException {
        byte[] bad = {(byte) 0xc3, 0x28};
        byte[] b = GgufBytes.header(3, 0, 1).str("a").u32(GgufType.ARRAY.id()).u32(GgufType.STRING.id()).u64(2)
                .str("ok").u64(2).bytes(bad).toByteArray();
        try (GgufFile g = GgufFile.open(Files.write(dir.resolve("utf.gguf"), b))) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> g.getStringArray("a"));
            assertTrue(e.getMessage().contains("key a[1]") && e.getMessage().contains("UTF-8"), e.getMessage());
        }
    }

    /** One malformed file and a fragment its error must contain. */
    private record Bad(String what, byte[] bytes, String fragment) {}

    private static GgufBytes oneTensor(String name, long[] ne, long type, long offset, long alignmentKey) {
        GgufBytes b = GgufBytes.header(3, 1, alignmentKey > 0 ? 1 : 0);
        if (alignmentKey > 0) {
            b.kvU32(GgufFile.ALIGNMENT_KEY, alignmentKey);
        }
        return b.tensor(name, ne, type, offset);
    }

    @Test
    void malformedFilesAreRejectedNamingTheProblem() throws IOException {
        long huge = 1L << 62;
        List<Bad> cases = List.of(
                new Bad("magic", "GGML0000000000000000000000".getBytes(), "magic"),
                new Bad("short", new byte[] {'G', 'G'}, "magic"),
                new Bad("v1", GgufBytes.header(1, 0, 0).toByteArray(), "version 1"),
                new Bad("v4", GgufBytes.header(4, 0, 0).toByteArray(), "version 4"),
                new Bad("big-endian", GgufBytes.header(0x0300_0000L, 0, 0).toByteArray(), "big-endian"),
                new Bad("tensor count", GgufBytes.header(3, huge, 0).toByteArray(), "tensor count"),
                new Bad("negative tensor count", GgufBytes.header(3, -1, 0).toByteArray(), "tensor count 18446744073709551615"),
                new Bad("kv count", GgufBytes.header(3, 0, huge).toByteArray(), "key/value count"),
                new Bad("truncated header", java.util.Arrays.copyOf(GgufBytes.header(3, 0, 0).toByteArray(), 12),
                        "tensor count at offset 8 needs 8 bytes"),
                new Bad("key length", GgufBytes.header(3, 0, 1).u64(1L << 40).zeros(20).toByteArray(), "key 0"),
                new Bad("empty key", GgufBytes.header(3, 0, 1).str("").u32(0).u8(1).zeros(8).toByteArray(), "key 0 is empty"),
                new Bad("duplicate key", GgufBytes.header(3, 0, 2).kvU32("k", 1).kvU32("k", 2).toByteArray(),
                        "key k appears twice"),
                new Bad("value type", GgufBytes.header(3, 0, 1).str("k").u32(13).u32(0).toByteArray(),
                        "key k: unknown value type 13"),
                new Bad("nested array", GgufBytes.header(3, 0, 1).str("k").u32(9).u32(9).u64(0).toByteArray(),
                        "arrays of arrays"),
                new Bad("array count", GgufBytes.header(3, 0, 1).str("k").u32(9).u32(8).u64(1L << 29).zeros(16)
                        .toByteArray(), "key k"),
                new Bad("array limit", GgufBytes.header(3, 0, 1).str("k").u32(9).u32(0).u64(1L << 31).toByteArray(),
                        "exceeds the limit"),
                new Bad("string in array", GgufBytes.header(3, 0, 1).str("k").u32(9).u32(8).u64(1).u64(99).zeros(8)
                        .toByteArray(), "key k[0]"),
                new Bad("bool", GgufBytes.header(3, 0, 1).str("k").u32(7).u8(2).toByteArray(), "bool byte 2"),
                new Bad("bool array", GgufBytes.header(3, 0, 1).str("k").u32(9).u32(7).u64(2).u8(1).u8(5).toByteArray(),
                        "key k[1]"),
                new Bad("key utf-8", GgufBytes.header(3, 0, 1).u64(2).bytes(new byte[] {(byte) 0xff, 'a'}).u32(0).u8(1)
                        .toByteArray(), "not valid UTF-8"),
                new Bad("alignment type", GgufBytes.header(3, 0, 1).kvStr(GgufFile.ALIGNMENT_KEY, "32").toByteArray(),
                        "must be UINT32"),
                new Bad("alignment 48", GgufBytes.header(3, 0, 1).kvU32(GgufFile.ALIGNMENT_KEY, 48).toByteArray(),
                        "not a power of two"),
                new Bad("alignment 0", GgufBytes.header(3, 0, 1).kvU32(GgufFile.ALIGNMENT_KEY, 0).toByteArray(),
                        "not a power of two"),
                new Bad("long name", oneTensor("x".repeat(64), new long[] {1}, 0, 0, 0).pad(32).zeros(32).toByteArray(),
                        "name of tensor 0"),
                new Bad("empty name", oneTensor("", new long[] {1}, 0, 0, 0).pad(32).zeros(32).toByteArray(),
                        "name of tensor 0 is empty"),
                new Bad("duplicate tensor", GgufBytes.header(3, 2, 0).tensor("t", new long[] {1}, 0, 0)
                        .tensor("t", new long[] {1}, 0, 32).pad(32).zeros(64).toByteArray(), "tensor t: name appears twice"),
                new Bad("dims", oneTensor("t", new long[] {1, 1, 1, 1, 1}, 0, 0, 0).pad(32).zeros(32).toByteArray(),
                        "tensor t: 5 dimensions"),
                new Bad("negative dim", oneTensor("t", new long[] {-2}, 0, 0, 0).pad(32).zeros(32).toByteArray(),
                        "tensor t: dimension 0"),
                new Bad("overflow", oneTensor("t", new long[] {1L << 32, 1L << 32}, 0, 0, 0).pad(32).toByteArray(),
                        "tensor t: shape"),
                new Bad("ggml type", oneTensor("t", new long[] {256}, 10, 0, 0).pad(32).zeros(256).toByteArray(),
                        "tensor t: ggml type 10"),
                new Bad("block", oneTensor("t", new long[] {16, 2}, 8, 0, 0).pad(32).zeros(64).toByteArray(),
                        "tensor t: rows of 16 elements are not a whole number of Q8_0 blocks"),
                new Bad("misaligned", oneTensor("t", new long[] {1}, 0, 4, 0).pad(32).zeros(64).toByteArray(),
                        "tensor t: offset 4"),
                new Bad("past the end", oneTensor("t", new long[] {100}, 0, 0, 0).pad(32).zeros(64).toByteArray(),
                        "tensor t: data [0, 400) runs past the end"),
                new Bad("offset past the end", oneTensor("t", new long[] {1}, 0, 1L << 40, 0).pad(32).zeros(64)
                        .toByteArray(), "tensor t: data"),
                new Bad("overlap", GgufBytes.header(3, 2, 0).tensor("a", new long[] {16}, 0, 0)
                        .tensor("b", new long[] {1}, 0, 32).pad(32).zeros(96).toByteArray(), "tensor b: data [32, 36) overlaps"),
                new Bad("no data section", oneTensor("t", new long[] {1}, 0, 0, 0).toByteArray(), "before its data section"));
        for (Bad c : cases) {
            Path p = Files.write(dir.resolve("bad.gguf"), c.bytes());
            CheckpointException e = assertThrows(CheckpointException.class, () -> GgufFile.open(p).close(), c.what());
            assertTrue(e.getMessage().startsWith(p.toString()), c.what() + ": " + e.getMessage());
            assertTrue(e.getMessage().contains(c.fragment()), c.what() + ": '" + c.fragment() + "' not in " + e.getMessage());
        }
    }

    @Test
    void writerRejectsWhatGgmlCannotRead() {
        GgufWriter w = new GgufWriter().putString("k", "v");
        assertThrows(IllegalArgumentException.class, () -> w.putString("k", "again"));
        assertThrows(IllegalArgumentException.class, () -> w.putString("", "v"));
        assertThrows(IllegalArgumentException.class, () -> w.putString("s", "\ud800"));
        assertThrows(IllegalArgumentException.class, () -> w.putUInt32(GgufFile.ALIGNMENT_KEY, 48));
        assertThrows(IllegalArgumentException.class, () -> w.putString(GgufFile.ALIGNMENT_KEY, "32"));
        assertThrows(IllegalArgumentException.class, () -> w.putInteger("i", GgufType.UINT8, 256));
        assertThrows(IllegalArgumentException.class, () -> w.putInteger("i", GgufType.FLOAT32, 1));
        assertThrows(IllegalArgumentException.class, () -> w.putIntegerArray("i", GgufType.INT8, new long[] {-129}));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("x".repeat(64), DType.F32, new long[] {1}, new byte[4]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("t", DType.F32, new long[] {1, 1, 1, 1, 1}, new byte[4]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("t", DType.F32, new long[] {}, new byte[4]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("t", DType.Q8_0, new long[] {32, 16}, new byte[544]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("t", DType.F32, new long[] {2}, new byte[4]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("t", DType.U8, new long[] {4}, new byte[4]));
        w.addTensor("t", DType.F32, new long[] {1}, new byte[4]);
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("t", DType.F32, new long[] {1}, new byte[4]));
    }

    @Test
    void aCallbackWritingTheWrongSizeFailsTheWrite() {
        GgufWriter w = new GgufWriter().addTensor("t", DType.F32, new long[] {2}, 8, out -> out.write(new byte[4]));
        IOException e = assertThrows(IOException.class, () -> w.write(dir.resolve("short.gguf")));
        assertTrue(e.getMessage().contains("tensor t"), e.getMessage());
    }

    @Test
    void ggmlTypeIdsRoundTrip() {
        for (DType d : DType.values()) {
            d.ggmlType().ifPresent(id -> assertEquals(Optional.of(d), DType.fromGgmlType(id), d.toString()));
        }
        assertEquals(0, DType.F32.ggmlType().getAsInt());
        assertEquals(30, DType.BF16.ggmlType().getAsInt());
        assertEquals(12, DType.Q4_K.ggmlType().getAsInt());
        for (long unknown : new long[] {-1, 4, 5, 10, 11, 16, 29, 31, 1000, 1L << 33}) {
            assertEquals(Optional.empty(), DType.fromGgmlType(unknown), Long.toString(unknown));
        }
        assertTrue(DType.U8.ggmlType().isEmpty());
    }
}
