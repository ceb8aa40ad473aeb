package dev.panopt.checkpoint;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.zip.CRC32;

/**
 * A minimal, strict reader of a zip archive that is already mapped into memory (as written by
 * {@code torch.save}: uncompressed entries, ZIP64 records for large files).
 *
 * <p>Everything is validated before an entry is exposed: the end-of-central-directory record (at the
 * exact end of the file, comment included) and, where present, the ZIP64 locator and ZIP64 end record;
 * single-disk archives only; every central-directory entry (signature, flags: no encryption, STORED
 * method only, compressed size == uncompressed size, strict UTF-8 name without NUL, no duplicate names,
 * ZIP64 extra field where a 32-bit field says so); the local header of every entry (signature, same
 * name and method as the central directory); data start = local header offset + 30 + local name length
 * + local extra length; every offset and size checked against the file size and the central directory
 * start with overflow-safe arithmetic; entries (local header through data) must not overlap.
 * CRC-32 is not checked on open (it would read every byte of a multi-GB file); call {@link #verifyCrc}
 * for entries whose content is parsed.
 *
 * <p>Ownership: the archive does not own {@code file}'s mapping; segments returned by {@link #data} are
 * read-only slices of the segment passed to {@link #parse} and live as long as it does.
 *
 * <p>Thread-safety: immutable after {@link #parse}; safe to share.
 */
final class ZipArchive {
    /** Most central-directory entries accepted (a torch checkpoint has one per storage, plus a few). */
    public static final int MAX_ENTRIES = 1 << 20;

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static final int SIG_LOCAL = 0x04034b50;
    private static final int SIG_CENTRAL = 0x02014b50;
    private static final int SIG_EOCD = 0x06054b50;
    private static final int SIG_ZIP64_EOCD = 0x06064b50;
    private static final int SIG_ZIP64_LOCATOR = 0x07064b50;
    private static final int EOCD_SIZE = 22;
    private static final int ZIP64_LOCATOR_SIZE = 20;
    private static final int ZIP64_EOCD_MIN_SIZE = 56;
    private static final int CENTRAL_SIZE = 46;
    private static final int LOCAL_SIZE = 30;
    private static final int MAX_COMMENT = 0xFFFF;
    private static final long U32_MAX = 0xFFFF_FFFFL;
    private static final int U16_MAX = 0xFFFF;

    /** Flag bits that make an entry unreadable here: encrypted (0), strong encryption (6), masked local header (13). */
    private static final int FORBIDDEN_FLAGS = 1 | (1 << 6) | (1 << 13);

    /**
     * One stored entry.
     *
     * @param name        the entry's name (validated UTF-8)
     * @param localOffset absolute offset of its local header
     * @param dataOffset  absolute offset of its first data byte
     * @param size        number of data bytes (stored, so compressed == uncompressed)
     * @param crc32       the CRC-32 recorded in the central directory
     */
    public record Entry(String name, long localOffset, long dataOffset, long size, int crc32) {}

    private final Path file;
    private final MemorySegment segment;
    private final Map<String, Entry> entries; // unmodifiable, central-directory order

    private ZipArchive(Path file, MemorySegment segment, Map<String, Entry> entries) {
        this.file = file;
        this.segment = segment;
        this.entries = entries;
    }

    /**
     * Parses and validates the archive in {@code segment} (the whole file).
     *
     * @param file    the file's path, for messages
     * @param segment the file's bytes
     * @throws CheckpointException if the archive is malformed, truncated or uses an unsupported feature
     */
    public static ZipArchive parse(Path file, MemorySegment segment) throws CheckpointException {
        return new Parser(file, segment).parse();
    }

    /** The archive's file. */
    public Path file() {
        return file;
    }

    /** All entries by name, in central-directory order; unmodifiable. */
    public Map<String, Entry> entries() {
        return entries;
    }

    /** The entry with this exact name, if present. */
    public Optional<Entry> find(String name) {
        return Optional.ofNullable(entries.get(name));
    }

    /**
     * A read-only view of exactly the entry's data bytes.
     *
     * @throws NoSuchElementException if there is no such entry
     */
    public MemorySegment data(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new NoSuchElementException("no entry " + name + " in " + file);
        }
        return data(e);
    }

    /** A read-only view of exactly this entry's data bytes (the entry must come from this archive). */
    public MemorySegment data(Entry e) {
        return segment.asSlice(e.dataOffset(), e.size()).asReadOnly();
    }

    /**
     * Checks the entry's data against its recorded CRC-32.
     *
     * @throws CheckpointException on a mismatch
     */
    public void verifyCrc(Entry e) throws CheckpointException {
        CRC32 crc = new CRC32();
        crc.update(data(e).asByteBuffer());
        if ((int) crc.getValue() != e.crc32()) {
            throw new CheckpointException(file, "zip entry " + e.name() + ": CRC-32 mismatch (recorded "
                    + String.format("%08x", e.crc32()) + ", data has " + String.format("%08x", (int) crc.getValue())
                    + "): file corrupted");
        }
    }

    @Override
    public String toString() {
        return "ZipArchive[" + file + ", " + entries.size() + " entries]";
    }

    /** One parse; keeps the file and segment for messages and reads. */
    private static final class Parser {
        private final Path file;
        private final MemorySegment seg;
        private final long size;

        Parser(Path file, MemorySegment seg) {
            this.file = file;
            this.seg = seg;
            this.size = seg.byteSize();
        }

        private CheckpointException bad(String problem) {
            return new CheckpointException(file, "zip: " + problem);
        }

        private int u16(long off) {
            return Short.toUnsignedInt(seg.get(U16, off));
        }

        private long u32(long off) {
            return Integer.toUnsignedLong(seg.get(U32, off));
        }

        private int s32(long off) {
            return seg.get(U32, off);
        }

        /** A u64 that must fit a non-negative long. */
        private long u64(long off, String what) throws CheckpointException {
            long v = seg.get(U64, off);
            if (v < 0) {
                throw bad(what + " " + Long.toUnsignedString(v) + " is out of range");
            }
            return v;
        }

        /** Checks that [off, off + len) lies inside the file; both non-negative. */
        private void within(long off, long len, String what) throws CheckpointException {
            if (off < 0 || len < 0 || off > size || len > size - off) {
                throw bad(what + " [" + off + ", +" + len + ") lies outside the file (" + size
                        + " bytes): truncated or corrupt archive");
            }
        }

        ZipArchive parse() throws CheckpointException {
            if (size < EOCD_SIZE) {
                throw bad("file of " + size + " bytes is too short to be a zip archive (need at least "
                        + EOCD_SIZE + ")");
            }
            long eocd = findEocd();
            int diskNo = u16(eocd + 4);
            int cdDisk = u16(eocd + 6);
            long entriesOnDisk = u16(eocd + 8);
            long totalEntries = u16(eocd + 10);
            long cdSize = u32(eocd + 12);
            long cdOffset = u32(eocd + 16);
            long cdLimit = eocd; // the central directory must end before this
            boolean hasLocator = eocd >= ZIP64_LOCATOR_SIZE && s32(eocd - ZIP64_LOCATOR_SIZE) == SIG_ZIP64_LOCATOR;
            boolean needs64 = diskNo == U16_MAX || cdDisk == U16_MAX || entriesOnDisk == U16_MAX
                    || totalEntries == U16_MAX || cdSize == U32_MAX || cdOffset == U32_MAX;
            if (needs64 && !hasLocator) {
                throw bad("end of central directory has ZIP64 placeholder values but no ZIP64 locator precedes it");
            }
            if (hasLocator) {
                long loc = eocd - ZIP64_LOCATOR_SIZE;
                long z64Disk = u32(loc + 4);
                long z64Off = u64(loc + 8, "ZIP64 end record offset");
                long disks = u32(loc + 16);
                if (z64Disk != 0 || disks != 1) {
                    throw bad("multi-disk archives are not supported (ZIP64 locator: disk " + z64Disk + ", "
                            + disks + " disks)");
                }
                if (z64Off > loc - ZIP64_EOCD_MIN_SIZE || loc < ZIP64_EOCD_MIN_SIZE) {
                    throw bad("ZIP64 end record offset " + z64Off + " does not leave room for the record before the"
                            + " locator at " + loc);
                }
                if (s32(z64Off) != SIG_ZIP64_EOCD) {
                    throw bad("no ZIP64 end of central directory record at offset " + z64Off);
                }
                long recSize = u64(z64Off + 4, "ZIP64 end record size");
                if (recSize < ZIP64_EOCD_MIN_SIZE - 12 || recSize > loc - z64Off - 12) {
                    throw bad("ZIP64 end record size " + recSize + " does not fit before the locator");
                }
                long d64 = u32(z64Off + 16);
                long cd64Disk = u32(z64Off + 20);
                long onDisk64 = u64(z64Off + 24, "ZIP64 entry count");
                long total64 = u64(z64Off + 32, "ZIP64 entry count");
                long cdSize64 = u64(z64Off + 40, "ZIP64 central directory size");
                long cdOff64 = u64(z64Off + 48, "ZIP64 central directory offset");
                if (d64 != 0 || cd64Disk != 0) {
                    throw bad("multi-disk archives are not supported (ZIP64 end record: disk " + d64 + ", "
                            + cd64Disk + ")");
                }
                // 32-bit fields either repeat the ZIP64 value or hold the placeholder.
                checkConsistent(entriesOnDisk, U16_MAX, onDisk64, "entries on disk");
                checkConsistent(totalEntries, U16_MAX, total64, "total entries");
                checkConsistent(cdSize, U32_MAX, cdSize64, "central directory size");
                checkConsistent(cdOffset, U32_MAX, cdOff64, "central directory offset");
                entriesOnDisk = onDisk64;
                totalEntries = total64;
                cdSize = cdSize64;
                cdOffset = cdOff64;
                cdLimit = z64Off;
            } else if (diskNo != 0 || cdDisk != 0) {
                throw bad("multi-disk archives are not supported (disk " + diskNo + ", central directory disk "
                        + cdDisk + ")");
            }
            if (entriesOnDisk != totalEntries) {
                throw bad("entries on this disk (" + entriesOnDisk + ") != total entries (" + totalEntries
                        + "): multi-disk archive?");
            }
            if (cdOffset > cdLimit || cdSize > cdLimit - cdOffset) {
                throw bad("central directory [" + cdOffset + ", +" + cdSize + ") does not end before the end record at "
                        + cdLimit + " (file " + size + " bytes): truncated or corrupt archive");
            }
            if (totalEntries > MAX_ENTRIES || totalEntries > cdSize / CENTRAL_SIZE) {
                throw bad(totalEntries + " entries cannot fit a central directory of " + cdSize + " bytes (at most "
                        + Math.min(MAX_ENTRIES, cdSize / CENTRAL_SIZE) + ")");
            }
            return readCentral(cdOffset, cdSize, (int) totalEntries);
        }

        private void need(long have, int want, String problem) throws CheckpointException {
            if (have < want) {
                throw bad(problem);
            }
        }

        private void checkConsistent(long v32, long placeholder, long v64, String what) throws CheckpointException {
            if (v32 != placeholder && v32 != v64) {
                throw bad("ZIP64 end record says " + what + " = " + v64 + " but the end record says " + v32);
            }
        }

        /** The end-of-central-directory record whose comment ends exactly at the end of the file. */
        private long findEocd() throws CheckpointException {
            long lowest = Math.max(0, size - EOCD_SIZE - MAX_COMMENT);
            for (long p = size - EOCD_SIZE; p >= lowest; p--) {
                if (s32(p) == SIG_EOCD && p + EOCD_SIZE + u16(p + 20) == size) {
                    return p;
                }
            }
            throw bad("no end of central directory record at the end of the file: not a zip archive, or"
                    + " truncated");
        }

        private ZipArchive readCentral(long cdOffset, long cdSize, int count) throws CheckpointException {
            LinkedHashMap<String, Entry> out = new LinkedHashMap<>();
            List<long[]> spans = new ArrayList<>(count); // [start, end) of local header + data
            long p = cdOffset;
            long cdEnd = cdOffset + cdSize;
            for (int i = 0; i < count; i++) {
                if (cdEnd - p < CENTRAL_SIZE) {
                    throw bad("central directory entry " + i + " at offset " + p + " runs past the central directory's"
                            + " end at " + cdEnd);
                }
                if (s32(p) != SIG_CENTRAL) {
                    throw bad("bad signature for central directory entry " + i + " at offset " + p);
                }
                int flags = u16(p + 8);
                int method = u16(p + 10);
                int crc = s32(p + 16);
                long compSize = u32(p + 20);
                long size0 = u32(p + 24);
                int nameLen = u16(p + 28);
                int extraLen = u16(p + 30);
                int commentLen = u16(p + 32);
                int diskStart = u16(p + 34);
                long localOff = u32(p + 42);
                long varLen = (long) nameLen + extraLen + commentLen;
                if (varLen > cdEnd - p - CENTRAL_SIZE) {
                    throw bad("central directory entry " + i + " at offset " + p + ": name/extra/comment lengths run"
                            + " past the central directory's end");
                }
                String name = name(p + CENTRAL_SIZE, nameLen, "central directory entry " + i);
                String what = "entry " + name;
                if ((flags & FORBIDDEN_FLAGS) != 0) {
                    throw bad(what + " is encrypted (flags 0x" + Integer.toHexString(flags) + "); not supported");
                }
                // ZIP64 extended information: values appear only for fields holding the placeholder.
                long extra = p + CENTRAL_SIZE + nameLen;
                long extraEnd = extra + extraLen;
                boolean wantSize = size0 == U32_MAX, wantComp = compSize == U32_MAX, wantOff = localOff == U32_MAX,
                        wantDisk = diskStart == U16_MAX;
                boolean found64 = false;
                while (extraEnd - extra >= 4) {
                    int id = u16(extra);
                    int len = u16(extra + 2);
                    if (len > extraEnd - extra - 4) {
                        throw bad(what + ": extra field 0x" + Integer.toHexString(id) + " overruns the extra data");
                    }
                    if (id == 0x0001) {
                        if (found64) {
                            throw bad(what + ": two ZIP64 extra fields");
                        }
                        found64 = true;
                        long q = extra + 4, qEnd = q + len;
                        if (wantSize) {
                            need(qEnd - q, 8, what + ": ZIP64 extra field lacks the uncompressed size");
                            size0 = u64(q, what + ": ZIP64 uncompressed size");
                            q += 8;
                        }
                        if (wantComp) {
                            need(qEnd - q, 8, what + ": ZIP64 extra field lacks the compressed size");
                            compSize = u64(q, what + ": ZIP64 compressed size");
                            q += 8;
                        }
                        if (wantOff) {
                            need(qEnd - q, 8, what + ": ZIP64 extra field lacks the local header offset");
                            localOff = u64(q, what + ": ZIP64 local header offset");
                            q += 8;
                        }
                        if (wantDisk) {
                            need(qEnd - q, 4, what + ": ZIP64 extra field lacks the disk number");
                            diskStart = (int) Math.min(u32(q), Integer.MAX_VALUE);
                            q += 4;
                        }
                    }
                    extra += 4 + len;
                }
                if ((wantSize || wantComp || wantOff || wantDisk) && !found64) {
                    throw bad(what + ": 32-bit size/offset placeholder without a ZIP64 extra field");
                }
                if (diskStart != 0) {
                    throw bad(what + " starts on disk " + diskStart + "; multi-disk archives are not supported");
                }
                if (method != 0) {
                    throw bad(what + " uses compression method " + method + (method == 8 ? " (DEFLATED)" : "")
                            + "; only STORED (0) entries are supported (torch.save writes uncompressed archives)");
                }
                if (compSize != size0) {
                    throw bad(what + " is STORED but its compressed size " + compSize + " != uncompressed size " + size0);
                }
                if (out.containsKey(name)) {
                    throw bad("duplicate entry name " + name);
                }
                long dataOff = local(localOff, name, method, cdOffset, i);
                if (size0 > cdOffset - dataOff) {
                    throw bad(what + ": data [" + dataOff + ", +" + size0 + ") runs past the central directory at "
                            + cdOffset + " (file " + size + " bytes): truncated or corrupt archive");
                }
                out.put(name, new Entry(name, localOff, dataOff, size0, crc));
                spans.add(new long[] {localOff, dataOff + size0, i});
                p += CENTRAL_SIZE + varLen;
            }
            spans.sort(Comparator.comparingLong(s -> s[0]));
            List<Entry> byIndex = new ArrayList<>(out.values());
            for (int i = 1; i < spans.size(); i++) {
                if (spans.get(i)[0] < spans.get(i - 1)[1]) {
                    throw bad("entries " + byIndex.get((int) spans.get(i - 1)[2]).name() + " and "
                            + byIndex.get((int) spans.get(i)[2]).name() + " overlap");
                }
            }
            return new ZipArchive(file, seg, Collections.unmodifiableMap(out));
        }

        /** Validates the local header at {@code off} and returns the data start. */
        private long local(long off, String name, int method, long cdOffset, int index) throws CheckpointException {
            String what = "entry " + name;
            if (off > cdOffset || cdOffset - off < LOCAL_SIZE) {
                throw bad(what + ": local header offset " + off + " does not leave room for a header before the central"
                        + " directory at " + cdOffset);
            }
            within(off, LOCAL_SIZE, what + " local header");
            if (s32(off) != SIG_LOCAL) {
                throw bad(what + ": no local header signature at offset " + off);
            }
            int flags = u16(off + 6);
            int lmethod = u16(off + 8);
            int nameLen = u16(off + 26);
            int extraLen = u16(off + 28);
            if ((flags & FORBIDDEN_FLAGS) != 0) {
                throw bad(what + ": local header says encrypted (flags 0x" + Integer.toHexString(flags) + ")");
            }
            if (lmethod != method) {
                throw bad(what + ": local header method " + lmethod + " != central directory method " + method);
            }
            long dataOff = off + LOCAL_SIZE + nameLen + extraLen;
            if (dataOff > cdOffset) {
                throw bad(what + ": local name/extra run past the central directory at " + cdOffset);
            }
            String localName = name(off + LOCAL_SIZE, nameLen, what + " local header");
            if (!localName.equals(name)) {
                throw bad("central directory entry " + index + " names " + name + " but its local header names "
                        + localName);
            }
            return dataOff;
        }

        private String name(long off, int len, String what) throws CheckpointException {
            within(off, len, what + " name");
            if (len == 0) {
                throw bad(what + " has an empty name");
            }
            byte[] b = seg.asSlice(off, len).toArray(ValueLayout.JAVA_BYTE);
            String s;
            try {
                s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
            } catch (CharacterCodingException e) {
                throw new CheckpointException(file, "zip: " + what + ": name is not valid UTF-8", e);
            }
            if (s.indexOf('\0') >= 0) {
                throw bad(what + ": name contains NUL");
            }
            return s;
        }
    }
}
