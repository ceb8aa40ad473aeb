package dev.panopt.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.DType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {
    @TempDir
    Path dir;

    private CheckpointException bad(Path file, String... expectedFragments) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(file).close());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        for (String f : expectedFragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
        }
        assertEquals(file, e.file());
        return e;
    }

    private Path header(String json, int dataBytes) throws IOException {
        return TestFiles.raw(dir.resolve("t.safetensors"), json, dataBytes);
    }

    @Test
    void writerRoundTripAllDtypes() throws IOException {
        Path f = dir.resolve("ok.safetensors");
        new SafetensorsWriter()
                .metadata("format", "pt")
                .addFloats("b.f32", DType.F32, new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, -6})
                .addFloats("a.f64", DType.F64, new long[] {2}, new float[] {0.1f, -7})
                .addFloats("c.bf16", DType.BF16, new long[] {3}, new float[] {1.5f, -2, 3.0e38f})
                .addFloats("d.f16", DType.F16, new long[] {2}, new float[] {0.5f, 65504f})
                .addLongs("e.i64", DType.I64, new long[] {2}, new long[] {Long.MIN_VALUE, 7})
                .addLongs("f.i32", DType.I32, new long[] {1}, new long[] {-3})
                .addLongs("g.i16", DType.I16, new long[] {1}, new long[] {-300})
                .addLongs("h.i8", DType.I8, new long[] {1}, new long[] {-5})
                .addLongs("i.u8", DType.U8, new long[] {1}, new long[] {250})
                .addLongs("j.bool", DType.BOOL, new long[] {2}, new long[] {1, 0})
                .addFloats("k.scalar", DType.F32, new long[] {}, new float[] {42})
                .add("l.empty", DType.F32, new long[] {0, 5}, new byte[0])
                .write(f);
        byte[] raw = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8, "header padded to a multiple of 8");
        String h = new String(raw, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(h.startsWith("{\"__metadata__\":{\"format\":\"pt\"},\"a.f64\""), h);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertEquals(List.of("a.f64", "b.f32", "c.bf16", "d.f16", "e.i64", "f.i32", "g.i16", "h.i8", "i.u8",
                    "j.bool", "k.scalar", "l.empty"), List.copyOf(st.names()));
            assertEquals(Map.of("format", "pt"), st.metadata());
            TensorInfo b = st.info("b.f32");
            assertArrayEquals(new long[] {2, 3}, b.shape());
            assertEquals(6, b.numel());
            assertEquals(24, b.byteSize());
            assertEquals("TensorInfo[b.f32 F32 [2, 3] @" + b.offset() + " +24]", b.toString());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, -6}, st.readFloats("b.f32"));
            assertArrayEquals(new float[] {0.1f, -7}, st.readFloats("a.f64"));
            assertArrayEquals(new float[] {1.5f, -2, 3.0e38f}, st.readFloats("c.bf16"), 2e36f);
            assertArrayEquals(new float[] {0.5f, 65504f}, st.readFloats("d.f16"));
            assertArrayEquals(new long[] {Long.MIN_VALUE, 7}, st.readLongs("e.i64"));
            assertArrayEquals(new long[] {-3}, st.readLongs("f.i32"));
            assertArrayEquals(new long[] {-300}, st.readLongs("g.i16"));
            assertArrayEquals(new long[] {-5}, st.readLongs("h.i8"));
            assertArrayEquals(new long[] {250}, st.readLongs("i.u8"));
            assertArrayEquals(new long[] {1, 0}, st.readLongs("j.bool"));
            assertArrayEquals(new float[] {42}, st.readFloats("k.scalar"));
            assertEquals(0, st.readFloats("l.empty").length);
            MemorySegment seg = st.data("b.f32");
            assertEquals(24, seg.byteSize());
            assertTrue(seg.isReadOnly());
            assertThrows(IllegalArgumentException.class, () -> seg.set(ValueLayout.JAVA_BYTE, 0, (byte) 1));
            assertThrows(IndexOutOfBoundsException.class, () -> seg.get(ValueLayout.JAVA_BYTE, 24));
            assertThrows(IllegalArgumentException.class, () -> st.readLongs("b.f32"));
            assertThrows(IllegalArgumentException.class, () -> st.readFloats("e.i64"));
            NoSuchElementException e = assertThrows(NoSuchElementException.class, () -> st.info("nope"));
            assertTrue(e.getMessage().contains("nope") && e.getMessage().contains(f.toString()));
            assertFalse(st.find("nope").isPresent());
            assertThrows(UnsupportedOperationException.class, () -> st.names().add("x"));
        }
    }

    @Test
    void writerStreamsSegmentsAndCallbacks() throws IOException {
        Path f = dir.resolve("s.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment big = arena.allocate(3L * 1024 * 1024 + 4);
            for (long i = 0; i < big.byteSize() / 4; i++) {
                big.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, i);
            }
            new SafetensorsWriter()
                    .add("big", DType.F32, new long[] {big.byteSize() / 4}, big)
                    .add("cb", DType.U8, new long[] {3}, 3, out -> out.write(new byte[] {1, 2, 3}))
                    .write(f);
        }
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            float[] v = st.readFloats("big");
            assertEquals(786433, v.length);
            assertEquals(786432f, v[786432]);
            assertArrayEquals(new long[] {1, 2, 3}, st.readLongs("cb"));
        }
        IOException e = assertThrows(IOException.class, () -> new SafetensorsWriter()
                .add("cb", DType.U8, new long[] {3}, 3, out -> out.write(1)).write(dir.resolve("x.safetensors")));
        assertTrue(e.getMessage().contains("cb"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new SafetensorsWriter().add("a", DType.F32, new long[] {2}, new byte[7]));
        assertThrows(IllegalArgumentException.class, () -> new SafetensorsWriter()
                .add("a", DType.U8, new long[] {1}, new byte[1]).add("a", DType.U8, new long[] {1}, new byte[1]));
    }

    @Test
    void f16Conversion() throws IOException {
        short[] bits = {0x0000, (short) 0x8000, 0x3c00, (short) 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x7c00,
                (short) 0xfc00, 0x7e00, 0x3555};
        ByteBuffer b = ByteBuffer.allocate(bits.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (short s : bits) {
            b.putShort(s);
        }
        Path f = dir.resolve("h.safetensors");
        new SafetensorsWriter().add("h", DType.F16, new long[] {bits.length}, b.array()).write(f);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            float[] v = st.readFloats("h");
            assertEquals(0f, v[0]);
            assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(v[1]));
            assertEquals(1f, v[2]);
            assertEquals(-2f, v[3]);
            assertEquals(65504f, v[4]);
            assertEquals((float) Math.scalb(1.0, -24), v[5]); // smallest subnormal
            assertEquals((float) (1023 * Math.scalb(1.0, -24)), v[6]); // largest subnormal
            assertEquals((float) Math.scalb(1.0, -14), v[7]); // smallest normal
            assertEquals(Float.POSITIVE_INFINITY, v[8]);
            assertEquals(Float.NEGATIVE_INFINITY, v[9]);
            assertTrue(Float.isNaN(v[10]));
            assertEquals(0.33325195f, v[11]);
        }
    }

    @Test
    void bf16Conversion() throws IOException {
        byte[] data = {(byte) 0x80, 0x3f, 0x00, (byte) 0xc0, (byte) 0x80, 0x7f, (byte) 0xc0, 0x7f};
        Path f = dir.resolve("bf.safetensors");
        new SafetensorsWriter().add("b", DType.BF16, new long[] {4}, data).write(f);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            float[] v = st.readFloats("b");
            assertEquals(1f, v[0]);
            assertEquals(-2f, v[1]);
            assertEquals(Float.POSITIVE_INFINITY, v[2]);
            assertTrue(Float.isNaN(v[3]));
        }
    }

    @Test
    void truncatedFile() throws IOException {
        Path f = dir.resolve("t.safetensors");
        Files.write(f, new byte[] {1, 2, 3});
        bad(f, "truncated");
        Files.write(f, new byte[0]);
        bad(f, "truncated");
    }

    @Test
    void truncatedData() throws IOException {
        // Header promises 16 bytes of data; only 8 are there.
        bad(header("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8), "tensor w", "past the end");
    }

    @Test
    void headerLengthPastEof() throws IOException {
        byte[] h = "{}".getBytes(StandardCharsets.UTF_8);
        bad(TestFiles.raw(dir.resolve("t.safetensors"), 1000, h, new byte[0]), "header length 1000", "past the end");
    }

    @Test
    void headerLengthOverCap() throws IOException {
        byte[] h = "{}".getBytes(StandardCharsets.UTF_8);
        bad(TestFiles.raw(dir.resolve("t.safetensors"), 100L * 1024 * 1024 + 1, h, new byte[0]), "cap");
        bad(TestFiles.raw(dir.resolve("t.safetensors"), -1L, h, new byte[0]), "18446744073709551615", "cap");
    }

    @Test
    void nonJsonHeader() throws IOException {
        bad(header("not json", 0), "not valid JSON");
        bad(header("[1, 2]", 0), "must be a JSON object");
        bad(header("{\"a\":", 0), "not valid JSON");
        byte[] badUtf8 = {'{', '"', (byte) 0xff, '"', ':', '1', '}'};
        bad(TestFiles.raw(dir.resolve("t.safetensors"), badUtf8.length, badUtf8, new byte[0]), "UTF-8");
    }

    @Test
    void dataOffsetsOutsideData() throws IOException {
        bad(header("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 8), "tensor w", "past the end");
    }

    @Test
    void dataOffsetsEndBeforeBegin() throws IOException {
        bad(header("{\"w\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[8,4]}}", 8), "tensor w", "begin <= end");
        bad(header("{\"w\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[-4,0]}}", 8), "tensor w", "begin <= end");
    }

    @Test
    void dataOffsetsNotMatchingNumel() throws IOException {
        bad(header("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 16), "tensor w", "needs 12");
        bad(header("{\"w\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16), "tensor w", "needs 8");
    }

    @Test
    void overlappingRanges() throws IOException {
        bad(header("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 16), "tensor b", "overlap", "tensor a");
        bad(header("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 16), "overlap");
    }

    @Test
    void gapsAndEmptyTensorsAreFine() throws IOException {
        try (SafetensorsFile st = SafetensorsFile.open(header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]},"
                + "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[10,10]}}", 16))) {
            assertEquals(2, st.names().size());
            assertEquals(4, st.data("a").byteSize());
            assertEquals(1, st.readFloats("a").length);
        }
    }

    @Test
    void unknownDtype() throws IOException {
        bad(header("{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", 8), "tensor w", "F8_E4M3");
        bad(header("{\"w\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,1]}}", 8), "tensor w", "dtype");
    }

    @Test
    void negativeShapeDim() throws IOException {
        bad(header("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 8), "tensor w", "non-negative");
        bad(header("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,0]}}", 8), "tensor w", "non-negative");
    }

    @Test
    void overflowingShape() throws IOException {
        bad(header("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}", 8),
                "tensor w", "overflows");
        bad(header("{\"w\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,0]}}", 8),
                "tensor w", "overflows");
    }

    @Test
    void missingAndExtraFields() throws IOException {
        bad(header("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 8), "tensor w", "data_offsets");
        bad(header("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 8), "tensor w", "\"x\"");
        bad(header("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 8), "tensor w", "two integers");
        bad(header("{\"w\":[1]}", 8), "tensor w", "object");
    }

    @Test
    void badMetadata() throws IOException {
        bad(header("{\"__metadata__\":{\"a\":1}}", 0), "__metadata__");
        bad(header("{\"__metadata__\":[]}", 0), "__metadata__");
    }

    @Test
    void duplicateNamesInHeader() throws IOException {
        bad(header("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                + "\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 8), "duplicate key");
    }

    @Test
    void useAfterClose() throws IOException {
        Path f = dir.resolve("c.safetensors");
        new SafetensorsWriter().addFloats("w", DType.F32, new long[] {1}, new float[] {1}).write(f);
        SafetensorsFile st = SafetensorsFile.open(f);
        MemorySegment seg = st.data("w");
        st.close();
        st.close(); // idempotent
        for (Runnable r : List.<Runnable>of(st::names, () -> st.info("w"), () -> st.data("w"), () -> st.readFloats("w"),
                st::metadata, () -> st.find("w"))) {
            IllegalStateException e = assertThrows(IllegalStateException.class, r::run);
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
        assertThrows(IllegalStateException.class, () -> seg.get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void tensorInfoIsImmutableAndValidated() {
        long[] shape = {3, 9};
        TensorInfo t = new TensorInfo("x", DType.F32, shape, 0, 108);
        shape[0] = 5;
        assertArrayEquals(new long[] {3, 9}, t.shape());
        t.shape()[1] = 1;
        assertArrayEquals(new long[] {3, 9}, t.shape());
        assertEquals(t, new TensorInfo("x", DType.F32, new long[] {3, 9}, 0, 108));
        assertEquals(t.hashCode(), new TensorInfo("x", DType.F32, new long[] {3, 9}, 0, 108).hashCode());
        assertFalse(t.equals(new TensorInfo("x", DType.F32, new long[] {9, 3}, 0, 108)));
        assertTrue(t.toString().contains("[3, 9]"));
        assertThrows(IllegalArgumentException.class, () -> new TensorInfo("x", DType.F32, new long[] {3}, 0, 11));
        assertThrows(IllegalArgumentException.class, () -> new TensorInfo("x", DType.F32, new long[] {-3}, 0, -12));
    }

    @Test
    void dtypeNames() {
        for (DType d : DType.values()) {
            if (d.isQuantized()) { // ggml's block formats have no safetensors name
                assertTrue(DType.fromSafetensorsName(d.safetensorsName()).isEmpty(), d.toString());
            } else {
                assertEquals(d, DType.fromSafetensorsName(d.safetensorsName()).orElseThrow());
            }
        }
        assertTrue(DType.fromSafetensorsName("f32").isEmpty());
        assertTrue(DType.fromSafetensorsName("U16").isEmpty());
        assertEquals(List.of(8L, 4L, 2L, 2L, 8L, 4L, 2L, 1L, 1L, 1L),
                Arrays.stream(DType.values()).filter(d -> !d.isQuantized()).map(d -> d.bytes(1)).toList());
        assertEquals(34L, DType.Q8_0.bytes(32));
        assertEquals(144L * 3, DType.Q4_K.bytes(768));
        assertEquals(6 * 2L, DType.BF16.bytes(6));
        assertThrows(IllegalArgumentException.class, () -> DType.F16.bytes(-1));
        assertThrows(ArithmeticException.class, () -> DType.F32.bytes(Long.MAX_VALUE / 2));
        // the native types' sizes come from panopt.h's type table
        for (int code = 0; code < dev.panopt.bindings.PanoptH.DTYPE_COUNT; code++) {
            DType d = DType.valueOf(dev.panopt.bindings.PanoptH.dtypeName(code));
            assertTrue(d.isNative());
            assertEquals(dev.panopt.bindings.PanoptH.dtypeBlockBytes(code), d.blockBytes());
            assertEquals(dev.panopt.bindings.PanoptH.dtypeBlockElems(code), d.blockSize());
        }
        assertFalse(DType.F64.isNative());
        assertTrue(DType.BF16.isFloatingPoint());
        assertFalse(DType.BOOL.isFloatingPoint());
    }
}
