package dev.panopt.checkpoint;

import dev.panopt.DType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharsetDecoder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.SequencedSet;

/**
 * A memory-mapped, fully validated GGUF file (version 2 or 3, little-endian): typed metadata and tensors.
 *
 * <p>{@link #open} maps the whole file read-only and validates it in Java before anything else sees a
 * byte, with the limits of ggml's own reader: the magic and version; the key/value and tensor counts,
 * every string length and array count against the bytes the file really holds (nothing is allocated
 * for a claimed size before the claim is checked); non-empty, unique, UTF-8 keys; known value types
 * (arrays of arrays rejected); bools 0 or 1; {@code general.alignment} a UINT32 power of two;
 * tensor names unique, UTF-8, 1..63 bytes; at most 4 dimensions, none negative, no overflowing
 * element or byte count; ggml types that {@link DType#fromGgmlType} knows; rows a whole number of
 * blocks; offsets multiples of the alignment, each tensor inside the data section, no two overlapping.
 * Any problem is a {@link CheckpointException} naming the key or tensor. The strings of string arrays
 * are decoded (and their UTF-8 checked) when asked for, so opening a file never decodes its vocabulary.
 *
 * <p>Shapes: {@link TensorInfo#shape()} is outermost first, as everywhere in Panopt: GGUF stores the
 * dimensions innermost first (ggml's {@code ne}), so {@code ne = [in, out]} is the shape
 * {@code [out, in]}. Tensor data is exactly the file's bytes (ggml's row-major block layout).
 *
 * <p>Ownership: this object owns the mapping. Segments returned by {@link #data} are read-only views into
 * it and become inaccessible once {@link #close()} is called.
 *
 * <p>Thread-safety: immutable after {@link #open}; every read method may be called concurrently. {@link
 * #close()} may be called from any thread; afterwards every method throws {@link IllegalStateException}.
 */
public final class GgufFile implements AutoCloseable {
    /** The key whose UINT32 value aligns the tensors (ggml's {@code GGUF_KEY_GENERAL_ALIGNMENT}). */
    public static final String ALIGNMENT_KEY = "general.alignment";
    /** Alignment of tensor data when {@link #ALIGNMENT_KEY} is absent (ggml's {@code GGUF_DEFAULT_ALIGNMENT}). */
    public static final int DEFAULT_ALIGNMENT = 32;
    /** Longest tensor name, in UTF-8 bytes (ggml's {@code GGML_MAX_NAME} of 64 with the terminator). */
    public static final int MAX_TENSOR_NAME_BYTES = 63;
    /** Most dimensions of a tensor (ggml's {@code GGML_MAX_DIMS}). */
    public static final int MAX_DIMS = 4;
    /** Longest key, in UTF-8 bytes (the GGUF specification's limit). */
    public static final int MAX_KEY_BYTES = 65535;
    /** Longest string value and most array elements (ggml's {@code GGUF_MAX_STRING_LENGTH}, {@code ..._ARRAY_ELEMENTS}). */
    static final long MAX_STRING_BYTES = 1L << 30;
    static final long MAX_ARRAY_ELEMENTS = 1L << 30;

    /** Smallest possible key/value entry: an 8-byte length, a 1-byte key, a type, a 1-byte value. */
    private static final int MIN_KV_BYTES = 8 + 1 + 4 + 1;
    /** Smallest possible tensor entry: an 8-byte length, a 1-byte name, dims count, type, offset. */
    private static final int MIN_TENSOR_BYTES = 8 + 1 + 4 + 4 + 8;

    /**
     * Where a metadata value lies: its type, for arrays the element type and count, the offset of the
     * value (of the first element for arrays) and, for scalars, the value itself (a Long for the integer
     * types, u64 as stored; a Double; a Boolean; a String).
     */
    private record Entry(GgufType type, GgufType elementType, long count, int offset, Object scalar) {}

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapped;
    private final ByteBuffer header;
    private final int version;
    private final long alignment;
    private final long dataOffset;
    private final Map<String, Entry> kv;
    private final SequencedSet<String> keys;
    private final Map<String, TensorInfo> tensors;
    private final SequencedSet<String> tensorNames;
    private volatile boolean closed;

    private GgufFile(Path path, Arena arena, MemorySegment mapped, ByteBuffer header, int version, long alignment,
                     long dataOffset, Map<String, Entry> kv, Map<String, TensorInfo> tensors) {
        this.path = path;
        this.arena = arena;
        this.mapped = mapped;
        this.header = header;
        this.version = version;
        this.alignment = alignment;
        this.dataOffset = dataOffset;
        this.kv = kv;
        this.keys = Collections.unmodifiableSequencedSet(new LinkedHashSet<>(kv.keySet()));
        this.tensors = tensors;
        this.tensorNames = Collections.unmodifiableSequencedSet(new LinkedHashSet<>(tensors.keySet()));
    }

    /**
     * Maps and validates {@code file}.
     *
     * @param file the {@code .gguf} file
     * @return the open file; the caller closes it
     * @throws CheckpointException if the file is not a valid GGUF file (the message names the file and the
     *     offending key, tensor or offset)
     * @throws IOException         if the file cannot be read
     */
    public static GgufFile open(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        Arena arena = Arena.ofShared();
        try {
            MemorySegment seg = MappedFiles.mapReadOnly(file, arena);
            long size = seg.byteSize();
            ByteBuffer header = seg.asSlice(0, Math.min(size, Integer.MAX_VALUE - 8)).asByteBuffer()
                    .order(ByteOrder.LITTLE_ENDIAN);
            GgufFile f = parse(file, arena, seg, header);
            arena = null; // ownership passed
            return f;
        } finally {
            if (arena != null) {
                arena.close();
            }
        }
    }

    private static GgufFile parse(Path file, Arena arena, MemorySegment seg, ByteBuffer header)
            throws CheckpointException {
        GgufCursor in = new GgufCursor(header, file, seg.byteSize());
        if (seg.byteSize() < 4 || header.getInt(0) != 0x46554747) { // "GGUF" little-endian
            throw new CheckpointException(file, "not a GGUF file: it does not start with the magic \"GGUF\"");
        }
        in.skip(4, "magic");
        long version = in.u32("version");
        if ((version & 0xffff) == 0 && version != 0) {
            throw new CheckpointException(file, "GGUF version field 0x" + Long.toHexString(version)
                    + " looks byte-swapped: big-endian GGUF files are not supported");
        }
        if (version != 2 && version != 3) {
            throw new CheckpointException(file, "unsupported GGUF version " + version + " (this reader takes 2 and 3)");
        }
        long nTensors = in.i64("tensor count");
        long nKv = in.i64("key/value count");
        // Each entry takes some bytes: a count the file cannot hold is rejected before anything is sized by it.
        if (nTensors < 0 || nTensors > in.remaining() / MIN_TENSOR_BYTES) {
            throw new CheckpointException(file, "tensor count " + Long.toUnsignedString(nTensors)
                    + " cannot fit in the " + in.remaining() + " bytes after the header");
        }
        if (nKv < 0 || nKv > in.remaining() / MIN_KV_BYTES) {
            throw new CheckpointException(file, "key/value count " + Long.toUnsignedString(nKv)
                    + " cannot fit in the " + in.remaining() + " bytes after the header");
        }
        Map<String, Entry> kv = new LinkedHashMap<>();
        for (long i = 0; i < nKv; i++) {
            String key = in.string("key " + i, MAX_KEY_BYTES);
            if (key.isEmpty()) {
                throw new CheckpointException(file, "key " + i + " is empty");
            }
            if (kv.containsKey(key)) {
                throw new CheckpointException(file, "key " + key + " appears twice");
            }
            kv.put(key, readValue(in, file, key));
        }
        long alignment = DEFAULT_ALIGNMENT;
        Entry a = kv.get(ALIGNMENT_KEY);
        if (a != null) {
            if (a.type() != GgufType.UINT32) {
                throw new CheckpointException(file, "key " + ALIGNMENT_KEY + " has type " + a.type() + ", must be UINT32");
            }
            alignment = (Long) a.scalar();
            if (alignment == 0 || Long.bitCount(alignment) != 1) {
                throw new CheckpointException(file, "key " + ALIGNMENT_KEY + " is " + alignment + ", not a power of two");
            }
        }
        List<String> names = new ArrayList<>();
        List<DType> types = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        List<long[]> spans = new ArrayList<>(); // {offset in the data section, bytes}
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (long i = 0; i < nTensors; i++) {
            String name = in.string("name of tensor " + i, MAX_TENSOR_NAME_BYTES);
            if (name.isEmpty()) {
                throw new CheckpointException(file, "name of tensor " + i + " is empty");
            }
            if (!seen.add(name)) {
                throw new CheckpointException(file, name, "name appears twice", null);
            }
            long nDims = in.u32("dimension count of tensor " + name);
            if (nDims > MAX_DIMS) {
                throw new CheckpointException(file, name, nDims + " dimensions, ggml allows at most " + MAX_DIMS, null);
            }
            long[] ne = new long[(int) nDims];
            for (int d = 0; d < ne.length; d++) {
                ne[d] = in.i64("dimension " + d + " of tensor " + name);
                if (ne[d] < 0) {
                    throw new CheckpointException(file, name, "dimension " + d + " is "
                            + Long.toUnsignedString(ne[d]) + ", beyond int64", null);
                }
            }
            long typeId = in.u32("type of tensor " + name);
            DType dtype = DType.fromGgmlType(typeId).orElseThrow(() -> new CheckpointException(file, name,
                    "ggml type " + typeId + " is not one this library reads (known: " + knownTypes() + ")", null));
            long[] shape = new long[ne.length];
            for (int d = 0; d < ne.length; d++) {
                shape[d] = ne[ne.length - 1 - d];
            }
            if (ne.length > 0 && ne[0] % dtype.blockSize() != 0) {
                throw new CheckpointException(file, name, "rows of " + ne[0] + " elements are not a whole number of "
                        + dtype + " blocks of " + dtype.blockSize(), null);
            }
            long bytes;
            try {
                bytes = dtype.bytes(TensorInfo.numel(shape));
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw new CheckpointException(file, name, "shape " + Arrays.toString(shape) + " of " + dtype + ": "
                        + (e instanceof ArithmeticException ? "byte size overflows" : e.getMessage()), null);
            }
            long offset = in.i64("offset of tensor " + name);
            if (offset < 0 || offset % alignment != 0) {
                throw new CheckpointException(file, name, "offset " + Long.toUnsignedString(offset)
                        + " in the data section is not a multiple of the alignment " + alignment, null);
            }
            names.add(name);
            types.add(dtype);
            shapes.add(shape);
            spans.add(new long[] {offset, bytes});
        }
        long end = in.position();
        long dataOffset = nTensors == 0 ? end : (end + alignment - 1) / alignment * alignment;
        if (dataOffset > seg.byteSize()) {
            throw new CheckpointException(file, "the file ends at " + seg.byteSize() + ", before its data section at "
                    + dataOffset + " (truncated)");
        }
        long dataSize = seg.byteSize() - dataOffset;
        Map<String, TensorInfo> infos = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            long off = spans.get(i)[0];
            long bytes = spans.get(i)[1];
            if (off > dataSize || bytes > dataSize - off) {
                throw new CheckpointException(file, names.get(i), "data [" + off + ", " + Long.toUnsignedString(off + bytes)
                        + ") runs past the end of the data section (" + dataSize + " bytes): truncated?", null);
            }
            infos.put(names.get(i), new TensorInfo(names.get(i), types.get(i), shapes.get(i), dataOffset + off, bytes));
        }
        checkOverlaps(file, infos.values(), dataOffset);
        return new GgufFile(file, arena, seg, header, (int) version, alignment, dataOffset,
                Collections.unmodifiableMap(kv), Collections.unmodifiableMap(infos));
    }

    private static Entry readValue(GgufCursor in, Path file, String key) throws CheckpointException {
        String what = "key " + key;
        long typeId = in.u32("type of " + what);
        GgufType type = GgufType.fromId(typeId).orElseThrow(() -> new CheckpointException(file, what
                + ": unknown value type " + typeId));
        if (type == GgufType.STRING) {
            int at = in.position();
            return new Entry(type, null, 1, at, in.string(what, MAX_STRING_BYTES));
        }
        if (type != GgufType.ARRAY) {
            int at = in.position();
            return new Entry(type, null, 1, at, in.scalar(type, what));
        }
        long elemId = in.u32("element type of " + what);
        GgufType elem = GgufType.fromId(elemId).orElseThrow(() -> new CheckpointException(file, what
                + ": unknown array element type " + elemId));
        if (elem == GgufType.ARRAY) {
            throw new CheckpointException(file, what + ": arrays of arrays are not allowed");
        }
        long n = in.i64("element count of " + what);
        if (n < 0 || n > MAX_ARRAY_ELEMENTS) {
            throw new CheckpointException(file, what + ": array of " + Long.toUnsignedString(n)
                    + " elements exceeds the limit of " + MAX_ARRAY_ELEMENTS);
        }
        int at = in.position();
        if (elem == GgufType.STRING) {
            in.need(n * 8, what + " (" + n + " strings)");
            for (long i = 0; i < n; i++) {
                if (!in.trySkipString(MAX_STRING_BYTES)) {
                    in.skipString(what + "[" + i + "]", MAX_STRING_BYTES); // throws, naming the element
                }
            }
        } else {
            in.need(n * elem.size(), what + " (" + n + " " + elem + " values)");
            if (elem == GgufType.BOOL && !in.allBools(n)) {
                for (long i = 0; i < n; i++) {
                    in.scalar(GgufType.BOOL, what + "[" + i + "]"); // throws at the first invalid one
                }
            }
            in.skip(n * elem.size(), what);
        }
        return new Entry(GgufType.ARRAY, elem, n, at, null);
    }

    private static String knownTypes() {
        List<String> out = new ArrayList<>();
        for (DType d : DType.values()) {
            d.ggmlType().ifPresent(id -> out.add(d + "=" + id));
        }
        return String.join(", ", out);
    }

    private static void checkOverlaps(Path file, java.util.Collection<TensorInfo> infos, long dataOffset)
            throws CheckpointException {
        List<TensorInfo> sorted = new ArrayList<>(infos);
        sorted.removeIf(t -> t.byteSize() == 0);
        sorted.sort(Comparator.comparingLong(TensorInfo::offset).thenComparing(TensorInfo::name));
        for (int i = 1; i < sorted.size(); i++) {
            TensorInfo prev = sorted.get(i - 1);
            TensorInfo cur = sorted.get(i);
            if (cur.offset() < prev.offset() + prev.byteSize()) {
                throw new CheckpointException(file, cur.name(), "data [" + (cur.offset() - dataOffset) + ", "
                        + (cur.offset() - dataOffset + cur.byteSize()) + ") overlaps that of tensor " + prev.name(), null);
            }
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("GGUF file " + path + " is closed");
        }
    }

    /** {@return the file this object maps} */
    public Path path() {
        return path;
    }

    /** {@return the GGUF version (2 or 3)} */
    public int version() {
        return version;
    }

    /** {@return the alignment of tensor data: {@code general.alignment}, else 32} */
    public long alignment() {
        return alignment;
    }

    /** {@return the file offset of the data section, where tensor offsets count from} */
    public long dataOffset() {
        return dataOffset;
    }

    // ---------------------------------------------------------------- metadata

    /**
     * The metadata keys in file order; unmodifiable.
     *
     * @return the keys
     * @throws IllegalStateException if the file is closed
     */
    public SequencedSet<String> keys() {
        checkOpen();
        return keys;
    }

    /**
     * The type of a key's value.
     *
     * @param key the key
     * @return its type ({@link GgufType#ARRAY} for arrays), or empty if the file has no such key
     * @throws IllegalStateException if the file is closed
     */
    public Optional<GgufType> type(String key) {
        checkOpen();
        Entry e = kv.get(Objects.requireNonNull(key, "key"));
        return e == null ? Optional.empty() : Optional.of(e.type());
    }

    private Entry entry(String key) throws CheckpointException {
        checkOpen();
        Entry e = kv.get(Objects.requireNonNull(key, "key"));
        if (e == null) {
            throw new CheckpointException(path, "missing key " + key);
        }
        return e;
    }

    private CheckpointException wrongType(String key, Entry e, String expected) {
        String actual = e.type() == GgufType.ARRAY ? "ARRAY of " + e.elementType() : e.type().toString();
        return new CheckpointException(path, "key " + key + " has type " + actual + ", expected " + expected);
    }

    /**
     * An integer value (any of the eight integer types).
     *
     * @param key the key
     * @return the value
     * @throws CheckpointException if the key is missing, not an integer, or a UINT64 above {@link Long#MAX_VALUE}
     * @throws IllegalStateException if the file is closed
     */
    public long getLong(String key) throws CheckpointException {
        Entry e = entry(key);
        if (!e.type().isInteger()) {
            throw wrongType(key, e, "an integer");
        }
        long v = (Long) e.scalar();
        if (e.type() == GgufType.UINT64 && v < 0) {
            throw new CheckpointException(path, "key " + key + " is " + Long.toUnsignedString(v) + ", too large");
        }
        return v;
    }

    /**
     * A FLOAT32 or FLOAT64 value.
     *
     * @param key the key
     * @return the value (a FLOAT32 widened exactly)
     * @throws CheckpointException if the key is missing or not a float
     * @throws IllegalStateException if the file is closed
     */
    public double getDouble(String key) throws CheckpointException {
        Entry e = entry(key);
        if (!e.type().isFloat()) {
            throw wrongType(key, e, "FLOAT32 or FLOAT64");
        }
        return (Double) e.scalar();
    }

    /**
     * A BOOL value.
     *
     * @param key the key
     * @return the value
     * @throws CheckpointException if the key is missing or not a BOOL
     * @throws IllegalStateException if the file is closed
     */
    public boolean getBoolean(String key) throws CheckpointException {
        Entry e = entry(key);
        if (e.type() != GgufType.BOOL) {
            throw wrongType(key, e, "BOOL");
        }
        return (Boolean) e.scalar();
    }

    /**
     * A STRING value.
     *
     * @param key the key
     * @return the value
     * @throws CheckpointException if the key is missing or not a STRING
     * @throws IllegalStateException if the file is closed
     */
    public String getString(String key) throws CheckpointException {
        Entry e = entry(key);
        if (e.type() != GgufType.STRING) {
            throw wrongType(key, e, "STRING");
        }
        return (String) e.scalar();
    }

    /**
     * The element type of an array.
     *
     * @param key the key
     * @return the type of its elements
     * @throws CheckpointException if the key is missing or not an array
     * @throws IllegalStateException if the file is closed
     */
    public GgufType arrayType(String key) throws CheckpointException {
        return array(key, null).elementType();
    }

    /**
     * The element count of an array.
     *
     * @param key the key
     * @return the number of elements
     * @throws CheckpointException if the key is missing or not an array
     * @throws IllegalStateException if the file is closed
     */
    public long arrayLength(String key) throws CheckpointException {
        return array(key, null).count();
    }

    private Entry array(String key, String expected) throws CheckpointException {
        Entry e = entry(key);
        if (e.type() != GgufType.ARRAY) {
            throw wrongType(key, e, expected == null ? "ARRAY" : expected);
        }
        return e;
    }

    /**
     * An array of strings, decoded (strict UTF-8) now.
     *
     * @param key the key
     * @return the strings; unmodifiable
     * @throws CheckpointException if the key is missing, not an array of strings, or a string is not UTF-8
     * @throws IllegalStateException if the file is closed
     */
    public List<String> getStringArray(String key) throws CheckpointException {
        Entry e = array(key, "ARRAY of STRING");
        if (e.elementType() != GgufType.STRING) {
            throw wrongType(key, e, "ARRAY of STRING");
        }
        String[] out = new String[(int) e.count()];
        CharsetDecoder decoder = GgufCursor.newDecoder();
        int at = e.offset();
        for (int i = 0; i < out.length; i++) {
            int len = (int) header.getLong(at); // validated by open
            out[i] = GgufCursor.decode(header, at + 8, len, decoder, path, "key " + key + "[" + i + "]");
            at += 8 + len;
        }
        return List.of(out);
    }

    /**
     * An array of integers (any integer element type).
     *
     * @param key the key
     * @return the values
     * @throws CheckpointException if the key is missing, not an integer array, or a UINT64 element exceeds
     *     {@link Long#MAX_VALUE}
     * @throws IllegalStateException if the file is closed
     */
    public long[] getLongArray(String key) throws CheckpointException {
        Entry e = array(key, "an integer ARRAY");
        GgufType t = e.elementType();
        if (!t.isInteger()) {
            throw wrongType(key, e, "an integer ARRAY");
        }
        long[] out = new long[(int) e.count()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (Long) GgufCursor.value(header, e.offset() + i * t.size(), t, path, key);
            if (t == GgufType.UINT64 && out[i] < 0) {
                throw new CheckpointException(path, "key " + key + "[" + i + "] is " + Long.toUnsignedString(out[i])
                        + ", too large");
            }
        }
        return out;
    }

    /**
     * An array of FLOAT32 or FLOAT64 values.
     *
     * @param key the key
     * @return the values (FLOAT32 widened exactly)
     * @throws CheckpointException if the key is missing or not a float array
     * @throws IllegalStateException if the file is closed
     */
    public double[] getDoubleArray(String key) throws CheckpointException {
        Entry e = array(key, "a float ARRAY");
        GgufType t = e.elementType();
        if (!t.isFloat()) {
            throw wrongType(key, e, "a float ARRAY");
        }
        double[] out = new double[(int) e.count()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (Double) GgufCursor.value(header, e.offset() + i * t.size(), t, path, key);
        }
        return out;
    }

    /**
     * An array of BOOL values.
     *
     * @param key the key
     * @return the values
     * @throws CheckpointException if the key is missing or not a BOOL array
     * @throws IllegalStateException if the file is closed
     */
    public boolean[] getBooleanArray(String key) throws CheckpointException {
        Entry e = array(key, "ARRAY of BOOL");
        if (e.elementType() != GgufType.BOOL) {
            throw wrongType(key, e, "ARRAY of BOOL");
        }
        boolean[] out = new boolean[(int) e.count()];
        for (int i = 0; i < out.length; i++) {
            out[i] = header.get(e.offset() + i) != 0; // 0 or 1, validated by open
        }
        return out;
    }

    // ---------------------------------------------------------------- tensors

    /**
     * The tensor names in file order; unmodifiable.
     *
     * @return the names
     * @throws IllegalStateException if the file is closed
     */
    public SequencedSet<String> tensorNames() {
        checkOpen();
        return tensorNames;
    }

    /**
     * A tensor's entry, if present.
     *
     * @param name the tensor name
     * @return its type, shape (outermost first) and absolute offset, or empty
     * @throws IllegalStateException if the file is closed
     */
    public Optional<TensorInfo> findTensor(String name) {
        checkOpen();
        return Optional.ofNullable(tensors.get(Objects.requireNonNull(name, "name")));
    }

    /**
     * A tensor's entry.
     *
     * @param name the tensor name
     * @return its type, shape (outermost first) and absolute offset
     * @throws NoSuchElementException if the file has no tensor of that name
     * @throws IllegalStateException  if the file is closed
     */
    public TensorInfo tensor(String name) {
        return findTensor(name).orElseThrow(() -> new NoSuchElementException("no tensor " + name + " in " + path));
    }

    /**
     * A read-only view of exactly the tensor's bytes, aligned in the file to {@link #alignment()}; valid
     * until {@link #close()}.
     *
     * @param name the tensor name
     * @return a segment of {@code tensor(name).byteSize()} bytes
     * @throws NoSuchElementException if the file has no tensor of that name
     * @throws IllegalStateException  if the file is closed
     */
    public MemorySegment data(String name) {
        TensorInfo t = tensor(name);
        return mapped.asSlice(t.offset(), t.byteSize()).asReadOnly();
    }

    /** Unmaps the file. Idempotent; segments from {@link #data} become inaccessible. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        arena.close();
    }

    @Override
    public String toString() {
        return "GgufFile[" + path + (closed ? ", closed" : ", v" + version + ", " + kv.size() + " keys, "
                + tensors.size() + " tensors") + "]";
    }
}
