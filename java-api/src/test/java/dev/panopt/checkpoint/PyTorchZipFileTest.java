package dev.panopt.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.DType;
import dev.panopt.checkpoint.TorchZipWriter.Entry;
import dev.panopt.checkpoint.TorchZipWriter.Layout;
import dev.panopt.checkpoint.TorchZipWriter.T;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** torch.save zip checkpoints: round trips, and one hostile archive per rule. */
class PyTorchZipFileTest {
    @TempDir
    Path dir;

    static byte[] seq(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 7 + 3);
        }
        return b;
    }

    static Map<String, byte[]> storages(Object... keyAndBytes) {
        Map<String, byte[]> m = new LinkedHashMap<>();
        for (int i = 0; i < keyAndBytes.length; i += 2) {
            m.put((String) keyAndBytes[i], (byte[]) keyAndBytes[i + 1]);
        }
        return m;
    }

    Path write(List<T> ts, Map<String, byte[]> st) throws IOException {
        return TorchZipWriter.write(dir.resolve("pytorch_model.bin"), "archive", ts, st, false);
    }

    Path writeEntries(List<Entry> es) throws IOException {
        Path f = dir.resolve("pytorch_model.bin");
        Files.write(f, TorchZipWriter.zip(es, false, null));
        return f;
    }

    static CheckpointException fails(Path file, String... fragments) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> PyTorchZipFile.open(file).close());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
        }
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        return e;
    }

    /** A valid small checkpoint: two tensors, one storage shared at an offset. */
    static final List<T> GOOD = List.of(T.dense("w", "HalfStorage", "0", 2, 3),
            new T("tail", "HalfStorage", "0", 6, 3, new long[] {3}, new long[] {1}));

    @Test
    void roundTripIsZeroCopyAndExact() throws IOException {
        byte[] f16 = seq(2 * 12);
        byte[] f32 = seq(4 * 5);
        byte[] i64 = seq(8);
        List<T> ts = List.of(T.dense("a.weight", "HalfStorage", "0", 3, 4),
                new T("a.tied", "HalfStorage", "0", 12, 4, new long[] {2, 4}, new long[] {4, 1}),
                new T("b", "FloatStorage", "1", 5, 1, new long[] {2, 2}, new long[] {2, 1}),
                T.dense("step", "LongStorage", "2"),
                new T("empty", "FloatStorage", "1", 5, 5, new long[] {0, 7}, new long[] {9, 9}),
                new T("unit", "FloatStorage", "1", 5, 4, new long[] {1, 1}, new long[] {99, 42}),
                T.dense("bf", "BFloat16Storage", "3", 2), T.dense("flag", "BoolStorage", "4", 3));
        Map<String, byte[]> st = storages("0", f16, "1", f32, "2", i64, "3", seq(4), "4", new byte[] {0, 1, 1});
        for (boolean zip64 : new boolean[] {false, true}) {
            Path f = TorchZipWriter.write(dir.resolve("rt" + zip64 + ".bin"), "some_name", ts, st, zip64);
            MemorySegment seg;
            try (PyTorchZipFile p = PyTorchZipFile.open(f)) {
                assertEquals(List.of("a.weight", "a.tied", "b", "step", "empty", "unit", "bf", "flag"),
                        List.copyOf(p.names()));
                TensorInfo a = p.info("a.weight");
                assertEquals(DType.F16, a.dtype());
                assertArrayEquals(new long[] {3, 4}, a.shape());
                assertEquals(0, a.offset() % 64, "storage records are 64-byte aligned");
                assertArrayEquals(f16, p.data("a.weight").toArray(ValueLayout.JAVA_BYTE));
                assertArrayEquals(Arrays.copyOfRange(f16, 8, 24), p.data("a.tied").toArray(ValueLayout.JAVA_BYTE));
                assertEquals(a.offset() + 8, p.info("a.tied").offset(), "shared storage: same bytes, no copy");
                assertArrayEquals(Arrays.copyOfRange(f32, 4, 20), p.data("b").toArray(ValueLayout.JAVA_BYTE));
                assertEquals(DType.I64, p.info("step").dtype());
                assertArrayEquals(new long[0], p.info("step").shape());
                assertArrayEquals(i64, p.data("step").toArray(ValueLayout.JAVA_BYTE));
                assertEquals(0, p.data("empty").byteSize());
                assertArrayEquals(Arrays.copyOfRange(f32, 16, 20), p.data("unit").toArray(ValueLayout.JAVA_BYTE));
                assertEquals(DType.BF16, p.info("bf").dtype());
                assertEquals(DType.BOOL, p.info("flag").dtype());
                assertTrue(p.data("b").isReadOnly());
                seg = p.data("a.weight");
            }
            MemorySegment closed = seg;
            assertThrows(IllegalStateException.class, () -> closed.get(ValueLayout.JAVA_BYTE, 0));
        }
    }

    @Test
    void byteOrderRecordLittleIsAcceptedBigIsRejected() throws IOException {
        byte[] pkl = TorchZipWriter.statePickle(GOOD);
        List<Entry> es = new ArrayList<>(TorchZipWriter.checkpointEntries("archive", pkl, storages("0", seq(12))));
        es.add(Entry.stored("archive/byteorder", "little".getBytes(StandardCharsets.US_ASCII)));
        PyTorchZipFile.open(writeEntries(es)).close();
        es.set(es.size() - 1, Entry.stored("archive/byteorder", "big".getBytes(StandardCharsets.US_ASCII)));
        fails(writeEntries(es), "big-endian checkpoint", "not supported");
    }

    @Test
    void unknownGlobalInAnArchiveIsRejected() throws IOException {
        byte[] pkl = new TorchZipWriter.Pickle().proto(2).global("os", "system").str("rm -rf /").op(0x85, 'R', '.')
                .bytes();
        fails(writeEntries(TorchZipWriter.checkpointEntries("archive", pkl, storages())),
                "archive/data.pkl: opcode GLOBAL (0x63) at byte 2: global os.system is not allowed");
    }

    @Test
    void storageKeyMissing() throws IOException {
        fails(write(GOOD, storages("1", seq(12))), "tensor w: storage record archive/data/0 is missing");
    }

    @Test
    void storageTooSmallForOffsetAndSize() throws IOException {
        List<T> ts = List.of(new T("w", "HalfStorage", "0", 6, 4, new long[] {3}, new long[] {1}));
        fails(write(ts, storages("0", seq(12))), "tensor w: view (offset 4, size [3], stride [1]) reaches past the end"
                + " of storage 0 (6 elements)");
        List<T> empty = List.of(new T("w", "HalfStorage", "0", 6, 7, new long[] {0}, new long[] {1}));
        fails(write(empty, storages("0", seq(12))), "reaches past the end of storage 0");
    }

    @Test
    void storageRecordSizeMustMatchItsDeclaredNumel() throws IOException {
        List<T> ts = List.of(T.dense("w", "FloatStorage", "0", 4));
        fails(write(ts, storages("0", seq(12))), "storage record archive/data/0 holds 12 bytes but the pickle declares"
                + " 4 x F32 = 16 bytes");
    }

    @Test
    void negativeSizes() throws IOException {
        List<T> ts = List.of(new T("w", "HalfStorage", "0", 6, 0, new long[] {-2, -3}, new long[] {3, 1}));
        fails(write(ts, storages("0", seq(12))), "negative dimension in size [-2, -3]");
    }

    @Test
    void overflowingSizes() throws IOException {
        long big = 1L << 40;
        List<T> ts = List.of(new T("w", "HalfStorage", "0", 6, 0, new long[] {big, big}, new long[] {big, 1}));
        fails(write(ts, storages("0", seq(12))), "tensor w: view", "element count or extent overflows");
        List<T> stride = List.of(new T("w", "HalfStorage", "0", 6, 0, new long[] {4}, new long[] {Long.MAX_VALUE / 2}));
        fails(write(stride, storages("0", seq(12))), "element count or extent overflows");
        List<T> numel = List.of(new T("w", "FloatStorage", "0", Long.MAX_VALUE / 2, 0, new long[] {1}, new long[] {1}));
        fails(write(numel, storages("0", seq(12))), "storage 0 of 4611686018427387903 elements overflows");
    }

    @Test
    void nonContiguousStrideIsRejected() throws IOException {
        List<T> ts = List.of(new T("w", "HalfStorage", "0", 6, 0, new long[] {2, 3}, new long[] {1, 2}));
        fails(write(ts, storages("0", seq(12))), "tensor w: view (offset 0, size [2, 3], stride [1, 2]) is not"
                + " contiguous row-major; only dense tensors are supported");
        List<T> expanded = List.of(new T("w", "HalfStorage", "0", 6, 0, new long[] {4, 3}, new long[] {0, 1}));
        fails(write(expanded, storages("0", seq(12))), "is not contiguous row-major");
    }

    @Test
    void centralDirectoryPointingOutsideTheFile() throws IOException {
        List<Layout> l = new ArrayList<>();
        byte[] z = TorchZipWriter.zip(TorchZipWriter.checkpointEntries("archive", TorchZipWriter.statePickle(GOOD),
                storages("0", seq(12))), false, l);
        ByteBuffer.wrap(z).order(ByteOrder.LITTLE_ENDIAN).putInt((int) l.get(0).eocd() + 16, z.length + 100);
        Path f = dir.resolve("pytorch_model.bin");
        Files.write(f, z);
        fails(f, "zip: central directory [", "truncated or corrupt archive");
    }

    @Test
    void truncatedFile() throws IOException {
        byte[] z = TorchZipWriter.zip(TorchZipWriter.checkpointEntries("archive", TorchZipWriter.statePickle(GOOD),
                storages("0", seq(12))), false, null);
        Path f = dir.resolve("pytorch_model.bin");
        for (int n : new int[] {1, 100, z.length / 2, z.length - 22, z.length - 1}) {
            Files.write(f, Arrays.copyOf(z, n));
            fails(f, "zip: ");
        }
        Files.write(f, new byte[0]);
        fails(f, "empty file");
    }

    @Test
    void compressedEntry() throws IOException {
        List<Entry> es = new ArrayList<>(TorchZipWriter.checkpointEntries("archive", TorchZipWriter.statePickle(GOOD),
                storages("0", seq(12))));
        es.set(1, new Entry("archive/data/0", seq(12), 8));
        fails(writeEntries(es), "entry archive/data/0 uses compression method 8 (DEFLATED)");
    }

    @Test
    void twoDataPkl() throws IOException {
        byte[] pkl = TorchZipWriter.statePickle(GOOD);
        List<Entry> es = new ArrayList<>(TorchZipWriter.checkpointEntries("a", pkl, storages("0", seq(12))));
        es.addAll(TorchZipWriter.checkpointEntries("b", pkl, storages("0", seq(12))));
        fails(writeEntries(es), "more than one data.pkl record [a/data.pkl, b/data.pkl]");
    }

    @Test
    void missingDataPklLegacyFormatAndCorruptPickle() throws IOException {
        fails(writeEntries(List.of(Entry.stored("archive/version", new byte[] {'3'}), Entry.stored("data.pkl",
                new byte[] {1}), Entry.stored("x/y/data.pkl", new byte[] {1}))), "no <folder>/data.pkl record");
        Path legacy = dir.resolve("legacy.bin");
        Files.write(legacy, new byte[] {(byte) 0x80, 2, (byte) 0x8a, 10, 0x6c, (byte) 0xfc});
        fails(legacy, "legacy (pre-1.6, non-zip) torch.save format is not supported");
        // A pickle byte changed after the CRC was computed.
        List<Layout> l = new ArrayList<>();
        byte[] z = TorchZipWriter.zip(TorchZipWriter.checkpointEntries("archive", TorchZipWriter.statePickle(GOOD),
                storages("0", seq(12))), false, l);
        MemorySegment s = MemorySegment.ofArray(z);
        long pklData = ZipArchive.parse(Path.of("x"), s).find("archive/data.pkl").orElseThrow().dataOffset();
        z[(int) pklData + 1] = 3; // PROTO 3
        Path f = dir.resolve("pytorch_model.bin");
        Files.write(f, z);
        fails(f, "zip entry archive/data.pkl: CRC-32 mismatch");
    }

    @Test
    void nonTensorStateDictIsRejected() throws IOException {
        byte[] pkl = new TorchZipWriter.Pickle().proto(2).op('}').str("epoch").integer(3).op('s', '.').bytes();
        fails(writeEntries(TorchZipWriter.checkpointEntries("archive", pkl, storages())),
                "state dict entry epoch is 3, not a tensor");
    }

    @Test
    void randomMutationsOfAWholeCheckpointGiveCheckpointExceptionsOnly() throws IOException {
        byte[] good = TorchZipWriter.zip(TorchZipWriter.checkpointEntries("archive", TorchZipWriter.statePickle(GOOD),
                storages("0", seq(12))), false, null);
        Path f = dir.resolve("fuzz.bin");
        Random rnd = new Random(11);
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int i = 0; i < 3_000; i++) {
                byte[] m = good.clone();
                int flips = 1 + rnd.nextInt(3);
                for (int k = 0; k < flips; k++) {
                    m[rnd.nextInt(m.length)] = (byte) rnd.nextInt(256);
                }
                if (rnd.nextInt(10) == 0) {
                    m = Arrays.copyOf(m, rnd.nextInt(m.length));
                }
                Files.write(f, m);
                try (PyTorchZipFile p = PyTorchZipFile.open(f)) {
                    for (String n : p.names()) {
                        assertEquals(p.info(n).byteSize(), p.data(n).toArray(ValueLayout.JAVA_BYTE).length);
                    }
                } catch (CheckpointException expected) {
                    // fine
                }
            }
        });
    }
}
