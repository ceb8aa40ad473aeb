package dev.panopt.checkpoint;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Test-only writer of {@code torch.save}-style zip checkpoints: a hand-assembled protocol-2 pickle in the
 * shape torch 1.13 writes, STORED entries aligned to 64 bytes, optional ZIP64 records. Every part is
 * reachable from the package's tests so they can assemble hostile variants.
 */
final class TorchZipWriter {
    private TorchZipWriter() {}

    /**
     * One tensor of a state dict.
     *
     * @param name        state-dict key
     * @param storageType e.g. {@code HalfStorage}
     * @param key         storage record name under {@code data/}
     * @param storageNumel numel declared in the persistent id
     * @param offset      storage offset (elements)
     * @param size        shape
     * @param stride      strides (elements)
     */
    public record T(String name, String storageType, String key, long storageNumel, long offset, long[] size,
            long[] stride) {
        /** A contiguous tensor that is its whole storage. */
        public static T dense(String name, String storageType, String key, long... size) {
            long[] stride = new long[size.length];
            long n = 1;
            for (int i = size.length - 1; i >= 0; i--) {
                stride[i] = n;
                n *= size[i];
            }
            return new T(name, storageType, key, n, 0, size, stride);
        }
    }

    // ---------------------------------------------------------------- pickle

    /** A byte-level pickle assembler (no validation: tests build hostile pickles with it). */
    public static final class Pickle {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private int memo;

        public Pickle op(int... bytes) {
            for (int b : bytes) {
                out.write(b);
            }
            return this;
        }

        public Pickle raw(byte[] bytes) {
            out.writeBytes(bytes);
            return this;
        }

        public Pickle proto(int p) {
            return op(0x80, p);
        }

        public Pickle global(String module, String name) {
            op('c');
            raw((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
            return put();
        }

        /** BINPUT/LONG_BINPUT of the next memo index, as torch's pickler does after most values. */
        public Pickle put() {
            int i = memo++;
            if (i < 256) {
                return op('q', i);
            }
            op('r');
            return le32(i);
        }

        public Pickle get(int i) {
            if (i < 256) {
                return op('h', i);
            }
            op('j');
            return le32(i);
        }

        public Pickle str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            op('X');
            le32(b.length);
            raw(b);
            return put();
        }

        public Pickle integer(long v) {
            if (v >= 0 && v < 256) {
                return op('K', (int) v);
            }
            if (v >= 0 && v < 65536) {
                return op('M', (int) (v & 0xFF), (int) (v >>> 8));
            }
            if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
                op('J');
                return le32((int) v);
            }
            op(0x8a, 8);
            for (int i = 0; i < 8; i++) {
                out.write((int) (v >>> (8 * i)));
            }
            return this;
        }

        public Pickle le32(int v) {
            for (int i = 0; i < 4; i++) {
                out.write(v >>> (8 * i));
            }
            return this;
        }

        /** A tuple of integers (EMPTY_TUPLE / TUPLE1..3 / MARK..TUPLE), then a memo put. */
        public Pickle intTuple(long[] vs) {
            if (vs.length == 0) {
                return op(')');
            }
            if (vs.length > 3) {
                op('(');
            }
            for (long v : vs) {
                integer(v);
            }
            op(vs.length == 1 ? 0x85 : vs.length == 2 ? 0x86 : vs.length == 3 ? 0x87 : 't');
            return put();
        }

        public byte[] bytes() {
            return out.toByteArray();
        }
    }

    /** A state-dict pickle in torch 1.13's shape (OrderedDict, one SETITEMS, memoized globals). */
    public static byte[] statePickle(List<T> tensors) {
        Pickle p = new Pickle().proto(2).global("collections", "OrderedDict").op(')', 'R').put().op('(');
        int rebuild = -1, storageStr = -1;
        int odict = 0;
        Map<String, Integer> types = new LinkedHashMap<>();
        Map<String, Integer> locations = new LinkedHashMap<>();
        for (T t : tensors) {
            p.str(t.name());
            if (rebuild < 0) {
                rebuild = p.memo;
                p.global("torch._utils", "_rebuild_tensor_v2");
            } else {
                p.get(rebuild);
            }
            p.op('(', '(');
            if (storageStr < 0) {
                storageStr = p.memo;
                p.str("storage");
            } else {
                p.get(storageStr);
            }
            Integer ty = types.get(t.storageType());
            if (ty == null) {
                types.put(t.storageType(), p.memo);
                p.global("torch", t.storageType());
            } else {
                p.get(ty);
            }
            p.str(t.key());
            Integer loc = locations.get("cpu");
            if (loc == null) {
                locations.put("cpu", p.memo);
                p.str("cpu");
            } else {
                p.get(loc);
            }
            p.integer(t.storageNumel()).op('t').put().op('Q');
            p.integer(t.offset()).intTuple(t.size()).intTuple(t.stride()).op(0x89);
            p.get(odict).op(')', 'R').put(); // backward hooks: OrderedDict()
            p.op('t').put().op('R').put();
        }
        return p.op('u', '.').bytes();
    }

    // ---------------------------------------------------------------- zip

    /** One entry to write. */
    public record Entry(String name, byte[] data, int method) {
        public static Entry stored(String name, byte[] data) {
            return new Entry(name, data, 0);
        }
    }

    /** Where things landed in the last built archive. */
    public record Layout(List<Long> localOffsets, List<Long> centralOffsets, long centralStart, long eocd) {}

    /**
     * Builds a zip: each entry's data aligned to 64 bytes (via a local extra field, as torch does), central
     * directory, optional ZIP64 end record and locator, end record.
     */
    public static byte[] zip(List<Entry> entries, boolean zip64, List<Layout> layoutOut) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<Long> locals = new ArrayList<>();
        List<Integer> crcs = new ArrayList<>();
        for (Entry e : entries) {
            long off = out.size();
            locals.add(off);
            byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
            int base = (int) (off + 30 + name.length);
            int pad = (64 - (base + 4) % 64) % 64;
            CRC32 crc = new CRC32();
            crc.update(e.data());
            crcs.add((int) crc.getValue());
            ByteBuffer h = le(30 + name.length + 4 + pad);
            h.putInt(0x04034b50).putShort((short) 20).putShort((short) 0).putShort((short) e.method())
                    .putShort((short) 0).putShort((short) 0).putInt((int) crc.getValue())
                    .putInt(e.data().length).putInt(e.data().length).putShort((short) name.length)
                    .putShort((short) (4 + pad)).put(name).putShort((short) 0x4246).putShort((short) pad);
            out.writeBytes(h.array());
            out.writeBytes(e.data());
        }
        long cdStart = out.size();
        List<Long> centrals = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            centrals.add((long) out.size());
            byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
            int extra = zip64 ? 4 + 24 : 0;
            ByteBuffer c = le(46 + name.length + extra);
            int sz = zip64 ? -1 : e.data().length;
            c.putInt(0x02014b50).putShort((short) 20).putShort((short) 20).putShort((short) 0)
                    .putShort((short) e.method()).putShort((short) 0).putShort((short) 0).putInt(crcs.get(i))
                    .putInt(sz).putInt(sz).putShort((short) name.length).putShort((short) extra)
                    .putShort((short) 0).putShort((short) 0).putShort((short) 0).putInt(0)
                    .putInt(zip64 ? -1 : (int) (long) locals.get(i)).put(name);
            if (zip64) {
                c.putShort((short) 1).putShort((short) 24).putLong(e.data().length).putLong(e.data().length)
                        .putLong(locals.get(i));
            }
            out.writeBytes(c.array());
        }
        long cdSize = out.size() - cdStart;
        if (zip64) {
            long z64 = out.size();
            ByteBuffer r = le(56 + 20);
            r.putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0)
                    .putLong(entries.size()).putLong(entries.size()).putLong(cdSize).putLong(cdStart);
            r.putInt(0x07064b50).putInt(0).putLong(z64).putInt(1);
            out.writeBytes(r.array());
        }
        long eocd = out.size();
        ByteBuffer r = le(22);
        r.putInt(0x06054b50).putShort((short) 0).putShort((short) 0)
                .putShort((short) (zip64 ? -1 : entries.size())).putShort((short) (zip64 ? -1 : entries.size()))
                .putInt(zip64 ? -1 : (int) cdSize).putInt(zip64 ? -1 : (int) cdStart).putShort((short) 0);
        out.writeBytes(r.array());
        if (layoutOut != null) {
            layoutOut.add(new Layout(locals, centrals, cdStart, eocd));
        }
        return out.toByteArray();
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Entries of a torch checkpoint: {@code top/data.pkl}, the storages, {@code top/version}. */
    public static List<Entry> checkpointEntries(String top, byte[] pickle, Map<String, byte[]> storages) {
        List<Entry> es = new ArrayList<>();
        es.add(Entry.stored(top + "/data.pkl", pickle));
        for (Map.Entry<String, byte[]> s : storages.entrySet()) {
            es.add(Entry.stored(top + "/data/" + s.getKey(), s.getValue()));
        }
        es.add(Entry.stored(top + "/version", "3\n".getBytes(StandardCharsets.US_ASCII)));
        return es;
    }

    /** Writes a whole checkpoint file. */
    public static Path write(Path file, String top, List<T> tensors, Map<String, byte[]> storages, boolean zip64)
            throws IOException {
        Files.write(file, zip(checkpointEntries(top, statePickle(tensors), storages), zip64, null));
        return file;
    }
}
