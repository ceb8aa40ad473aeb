package dev.panopt.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.checkpoint.TorchZipWriter.Entry;
import dev.panopt.checkpoint.TorchZipWriter.Layout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The strict zip reader: valid stored archives (with and without ZIP64) read; malformed ones fail clearly. */
class ZipArchiveTest {
    static final Path FILE = Path.of("x.zip");

    static final List<Entry> ENTRIES = List.of(Entry.stored("top/a", bytes("hello")),
            Entry.stored("top/b", new byte[1000]), Entry.stored("top/é", bytes("unicode name")),
            Entry.stored("top/empty", new byte[0]));

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static ZipArchive parse(byte[] zip) throws CheckpointException {
        return ZipArchive.parse(FILE, MemorySegment.ofArray(zip));
    }

    static CheckpointException fails(byte[] zip, String... fragments) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> parse(zip));
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
        }
        assertTrue(e.getMessage().startsWith(FILE + ": zip: "), e.getMessage());
        return e;
    }

    static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void readsStoredEntriesWithAndWithoutZip64() throws CheckpointException {
        for (boolean zip64 : new boolean[] {false, true}) {
            ZipArchive z = parse(TorchZipWriter.zip(ENTRIES, zip64, null));
            assertEquals(List.of("top/a", "top/b", "top/é", "top/empty"), List.copyOf(z.entries().keySet()));
            for (Entry e : ENTRIES) {
                ZipArchive.Entry got = z.find(e.name()).orElseThrow();
                assertEquals(0, got.dataOffset() % 64, "torch-style 64-byte alignment via the local extra field");
                assertArrayEquals(e.data(), z.data(e.name()).toArray(ValueLayout.JAVA_BYTE));
                assertTrue(z.data(e.name()).isReadOnly());
                z.verifyCrc(got);
            }
        }
    }

    @Test
    void centralDirectoryPointingOutsideTheFileIsRejected() {
        List<Layout> l = new ArrayList<>();
        byte[] z = TorchZipWriter.zip(ENTRIES, false, l);
        le(z).putInt((int) l.get(0).eocd() + 16, 0x7fff_0000);
        fails(z, "central directory [2147418112, +", "does not end before the end record");
        byte[] z2 = TorchZipWriter.zip(ENTRIES, false, null);
        le(z2).putInt(l.get(0).centralOffsets().get(1).intValue() + 42, 0x7000_0000); // local header offset
        fails(z2, "entry top/b: local header offset 1879048192");
        byte[] z3 = TorchZipWriter.zip(ENTRIES, false, null);
        le(z3).putInt(l.get(0).centralOffsets().get(1).intValue() + 20, 0x7000_0000); // sizes
        le(z3).putInt(l.get(0).centralOffsets().get(1).intValue() + 24, 0x7000_0000);
        fails(z3, "entry top/b: data [", "runs past the central directory");
        byte[] z4 = TorchZipWriter.zip(ENTRIES, true, null);
        List<Layout> l4 = new ArrayList<>();
        TorchZipWriter.zip(ENTRIES, true, l4);
        le(z4).putLong((int) l4.get(0).eocd() - 20 + 8, Long.MIN_VALUE + 5); // ZIP64 locator offset
        fails(z4, "ZIP64 end record offset");
        byte[] z5 = TorchZipWriter.zip(ENTRIES, true, null);
        le(z5).putLong((int) l4.get(0).eocd() - 20 - 56 + 48, 1L << 40); // ZIP64 central directory offset
        fails(z5, "central directory [1099511627776, +");
    }

    @Test
    void truncatedFileIsRejectedAtEveryLength() {
        byte[] z = TorchZipWriter.zip(ENTRIES, false, null);
        for (int n = 0; n < z.length; n++) {
            byte[] cut = Arrays.copyOf(z, n);
            assertThrows(CheckpointException.class, () -> parse(cut), "length " + n);
        }
        fails(Arrays.copyOf(z, z.length - 1), "no end of central directory record");
        fails(new byte[5], "too short to be a zip archive");
        // Bytes missing from the middle: the offsets no longer match.
        byte[] mid = new byte[z.length - 100];
        System.arraycopy(z, 0, mid, 0, 200);
        System.arraycopy(z, 300, mid, 200, z.length - 300);
        assertThrows(CheckpointException.class, () -> parse(mid));
    }

    @Test
    void compressedEntryIsRejected() {
        List<Entry> es = List.of(Entry.stored("top/a", bytes("x")), new Entry("top/data.pkl", bytes("deflated?"), 8));
        fails(TorchZipWriter.zip(es, false, null), "entry top/data.pkl uses compression method 8 (DEFLATED)",
                "only STORED");
    }

    @Test
    void encryptionAndHeaderMismatchesAreRejected() {
        List<Layout> l = new ArrayList<>();
        byte[] z = TorchZipWriter.zip(ENTRIES, false, l);
        le(z).putShort(l.get(0).centralOffsets().get(0).intValue() + 8, (short) 1);
        fails(z, "entry top/a is encrypted");
        byte[] z2 = TorchZipWriter.zip(ENTRIES, false, null);
        z2[l.get(0).localOffsets().get(1).intValue() + 30 + 4] = 'X'; // local name "top/X"
        fails(z2, "central directory entry 1 names top/b but its local header names top/X");
        byte[] z3 = TorchZipWriter.zip(ENTRIES, false, null);
        z3[l.get(0).localOffsets().get(1).intValue()] = 0;
        fails(z3, "entry top/b: no local header signature");
        byte[] z4 = TorchZipWriter.zip(ENTRIES, false, null);
        le(z4).putShort(l.get(0).localOffsets().get(0).intValue() + 8, (short) 8);
        fails(z4, "local header method 8 != central directory method 0");
        byte[] z5 = TorchZipWriter.zip(ENTRIES, false, null);
        le(z5).putInt(l.get(0).centralOffsets().get(2).intValue() + 20, 3); // compressed != uncompressed
        fails(z5, "compressed size 3 != uncompressed size 12");
        byte[] z6 = TorchZipWriter.zip(ENTRIES, false, null);
        le(z6).putShort((int) l.get(0).eocd() + 4, (short) 1);
        fails(z6, "multi-disk archives are not supported");
    }

    @Test
    void duplicateInvalidAndOverlappingEntriesAreRejected() {
        fails(TorchZipWriter.zip(List.of(Entry.stored("a", new byte[1]), Entry.stored("a", new byte[1])), false, null),
                "duplicate entry name a");
        byte[] bad = TorchZipWriter.zip(List.of(Entry.stored("ab", new byte[1])), false, null);
        List<Layout> l = new ArrayList<>();
        TorchZipWriter.zip(List.of(Entry.stored("ab", new byte[1])), false, l);
        bad[l.get(0).centralOffsets().get(0).intValue() + 46] = (byte) 0xC3;
        bad[l.get(0).centralOffsets().get(0).intValue() + 47] = (byte) 0x28;
        fails(bad, "name is not valid UTF-8");
        // Entry a's size grown so its data covers entry b's local header.
        List<Layout> lo = new ArrayList<>();
        byte[] z = TorchZipWriter.zip(ENTRIES, false, lo);
        int ca = lo.get(0).centralOffsets().get(0).intValue();
        int grown = (int) (lo.get(0).localOffsets().get(1) - lo.get(0).localOffsets().get(0)) + 10;
        le(z).putInt(ca + 20, grown).putInt(ca + 24, grown);
        fails(z, "entries top/a and top/b overlap");
    }

    @Test
    void zip64PlaceholdersNeedTheirRecords() {
        // Placeholders in the end record with the ZIP64 records removed.
        List<Layout> l = new ArrayList<>();
        byte[] z = TorchZipWriter.zip(ENTRIES, true, l);
        int eocd = (int) l.get(0).eocd();
        byte[] cut = new byte[z.length - 76];
        System.arraycopy(z, 0, cut, 0, eocd - 76);
        System.arraycopy(z, eocd, cut, eocd - 76, 22);
        fails(cut, "ZIP64 placeholder values but no ZIP64 locator");
        // A central entry with 0xFFFFFFFF sizes but no ZIP64 extra field.
        byte[] z2 = TorchZipWriter.zip(ENTRIES, true, null);
        le(z2).putShort(l.get(0).centralOffsets().get(0).intValue() + 46 + 5, (short) 0x7777); // extra id
        fails(z2, "entry top/a: 32-bit size/offset placeholder without a ZIP64 extra field");
        // Disagreeing 32-bit and 64-bit counts.
        byte[] z3 = TorchZipWriter.zip(ENTRIES, true, null);
        le(z3).putShort(eocd + 10, (short) 3);
        fails(z3, "ZIP64 end record says total entries = 4 but the end record says 3");
    }

    @Test
    void commentIsToleratedAndCrcIsChecked() throws CheckpointException {
        List<Layout> l = new ArrayList<>();
        byte[] z = TorchZipWriter.zip(ENTRIES, false, l);
        byte[] withComment = Arrays.copyOf(z, z.length + 7);
        le(withComment).putShort((int) l.get(0).eocd() + 20, (short) 7);
        assertEquals(4, parse(withComment).entries().size());
        byte[] flipped = z.clone();
        flipped[(int) parse(z).find("top/a").orElseThrow().dataOffset()] ^= 1;
        ZipArchive za = parse(flipped);
        CheckpointException e = assertThrows(CheckpointException.class, () -> za.verifyCrc(za.find("top/a").orElseThrow()));
        assertTrue(e.getMessage().contains("CRC-32 mismatch"), e.getMessage());
    }

    @Test
    void randomMutationsGiveCheckpointExceptionsOnly() {
        Random rnd = new Random(7);
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            for (boolean zip64 : new boolean[] {false, true}) {
                byte[] good = TorchZipWriter.zip(ENTRIES, zip64, null);
                for (int i = 0; i < 20_000; i++) {
                    byte[] m = good.clone();
                    int flips = 1 + rnd.nextInt(3);
                    for (int f = 0; f < flips; f++) {
                        // Bias towards the headers at the end, where most structure is.
                        int at = rnd.nextBoolean() ? m.length - 1 - rnd.nextInt(Math.min(m.length, 400))
                                : rnd.nextInt(m.length);
                        m[at] = (byte) rnd.nextInt(256);
                    }
                    try {
                        ZipArchive z = parse(m);
                        for (ZipArchive.Entry e : z.entries().values()) {
                            z.data(e).toArray(ValueLayout.JAVA_BYTE); // in bounds by construction
                        }
                    } catch (CheckpointException expected) {
                        // fine
                    }
                }
            }
        });
    }
}
