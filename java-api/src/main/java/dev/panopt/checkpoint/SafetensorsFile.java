package dev.panopt.checkpoint;

import dev.panopt.DType;
import dev.panopt.internal.Json;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A memory-mapped, fully validated safetensors file.
 *
 * <p>{@link #open} maps the whole file read-only into a segment owned by a shared {@link Arena}
 * that this object creates, then validates the header before anything else sees a byte: header
 * length within the file and at most {@link #MAX_HEADER_BYTES}, strict UTF-8 JSON, known dtypes,
 * non-negative shapes, {@code data_offsets} inside the data section, sizes equal to
 * {@code numel * dtype size}, and no two tensors overlapping. Gaps between tensors and trailing
 * bytes are tolerated (they are never exposed).
 *
 * <p>Ownership: this object owns the mapping. Segments returned by {@link #data} are read-only views
 * into it and become inaccessible once {@link #close()} is called.
 *
 * <p>Thread-safety: all read methods may be called concurrently from any thread after {@code open}
 * returns. {@link #close()} may be called from any thread; after it every method throws
 * {@link IllegalStateException}. Do not close while other threads still read {@link #data} segments.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Largest header accepted (the same cap as the reference Rust implementation). */
    public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    private static final String METADATA_KEY = "__metadata__";
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64_LE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapped;
    private final Map<String, TensorInfo> tensors; // unmodifiable, sorted
    private final SortedSet<String> names;
    private final Map<String, String> metadata;
    private volatile boolean closed;

    private SafetensorsFile(Path path, Arena arena, MemorySegment mapped, Map<String, TensorInfo> tensors,
            Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.mapped = mapped;
        this.tensors = tensors;
        this.names = Collections.unmodifiableSortedSet(new TreeSet<>(tensors.keySet()));
        this.metadata = metadata;
    }

    /**
     * Maps and validates {@code file}.
     *
     * @param file the {@code .safetensors} file
     * @return the open file; the caller closes it
     * @throws CheckpointException if the file is not a valid safetensors file (the message names the
     *         file and, where relevant, the tensor)
     * @throws IOException         if the file cannot be read
     */
    public static SafetensorsFile open(Path file) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment seg = MappedFiles.mapReadOnly(file, arena);
            long size = seg.byteSize();
            if (size < 8) {
                throw new CheckpointException(file, "truncated safetensors file: " + size
                        + " bytes, not even the 8-byte header length");
            }
            long headerLen = seg.get(I64_LE, 0);
            // Compare as unsigned: a u64 above 2^63 reads as negative here.
            if (headerLen < 0 || headerLen > MAX_HEADER_BYTES) {
                throw new CheckpointException(file, "header length " + Long.toUnsignedString(headerLen)
                        + " exceeds the " + MAX_HEADER_BYTES + "-byte cap");
            }
            if (8 + headerLen > size) {
                throw new CheckpointException(file, "header length " + headerLen + " runs past the end of the file ("
                        + size + " bytes): truncated or not a safetensors file");
            }
            byte[] headerBytes = seg.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
            String header;
            try {
                header = StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(headerBytes))
                        .toString();
            } catch (CharacterCodingException e) {
                throw new CheckpointException(file, "header is not valid UTF-8", e);
            }
            Object parsed;
            try {
                parsed = Json.parse(header);
            } catch (Json.ParseException e) {
                throw new CheckpointException(file, "header is not valid JSON: " + e.getMessage(), e);
            }
            if (!(parsed instanceof Map<?, ?>)) {
                throw new CheckpointException(file, "header must be a JSON object, got " + Json.typeName(parsed));
            }
            Map<String, Object> root = Json.asObject(parsed, "header");
            long dataStart = 8 + headerLen;
            long dataLen = size - dataStart;
            Map<String, String> metadata = Map.of();
            TreeMap<String, TensorInfo> infos = new TreeMap<>();
            for (Map.Entry<String, Object> e : root.entrySet()) {
                String name = e.getKey();
                if (name.equals(METADATA_KEY)) {
                    metadata = parseMetadata(file, e.getValue());
                    continue;
                }
                infos.put(name, parseEntry(file, name, e.getValue(), dataStart, dataLen));
            }
            checkOverlaps(file, infos, dataStart);
            SafetensorsFile f = new SafetensorsFile(file, arena, seg, Collections.unmodifiableMap(infos), metadata);
            arena = null; // ownership passed
            return f;
        } finally {
            if (arena != null) {
                arena.close();
            }
        }
    }

    private static Map<String, String> parseMetadata(Path file, Object v) throws CheckpointException {
        if (!(v instanceof Map<?, ?> m)) {
            throw new CheckpointException(file, METADATA_KEY + " must be an object of strings, got " + Json.typeName(v));
        }
        LinkedHashMap<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new CheckpointException(file, METADATA_KEY + " value of \"" + e.getKey() + "\" must be a string, got "
                        + Json.typeName(e.getValue()));
            }
            out.put((String) e.getKey(), s);
        }
        return Collections.unmodifiableMap(out);
    }

    private static TensorInfo parseEntry(Path file, String name, Object v, long dataStart, long dataLen)
            throws CheckpointException {
        if (!(v instanceof Map<?, ?>)) {
            throw new CheckpointException(file, name, "entry must be a JSON object, got " + Json.typeName(v), null);
        }
        Map<String, Object> m = Json.asObject(v, name);
        for (String key : m.keySet()) {
            if (!key.equals("dtype") && !key.equals("shape") && !key.equals("data_offsets")) {
                throw new CheckpointException(file, name, "unexpected field \"" + key + "\"", null);
            }
        }
        if (!m.containsKey("dtype") || !m.containsKey("shape") || !m.containsKey("data_offsets")) {
            List<String> missing = new ArrayList<>();
            for (String k : List.of("dtype", "shape", "data_offsets")) {
                if (!m.containsKey(k)) {
                    missing.add(k);
                }
            }
            throw new CheckpointException(file, name, "missing field(s) " + missing, null);
        }
        Object dt = m.get("dtype");
        if (!(dt instanceof String dtName)) {
            throw new CheckpointException(file, name, "dtype must be a string, got " + Json.typeName(dt), null);
        }
        DType dtype = DType.fromSafetensorsName(dtName).orElseThrow(() -> new CheckpointException(file, name,
                "unsupported dtype \"" + dtName + "\" (known: " + Arrays.toString(DType.values()) + ")", null));
        if (!(m.get("shape") instanceof List<?> shapeList)) {
            throw new CheckpointException(file, name, "shape must be an array, got " + Json.typeName(m.get("shape")), null);
        }
        long[] shape = new long[shapeList.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!(shapeList.get(i) instanceof Long d) || d < 0) {
                throw new CheckpointException(file, name, "shape " + Json.write(shapeList)
                        + " must contain non-negative integers", null);
            }
            shape[i] = d;
        }
        long numel = 1;
        long bytes;
        try {
            for (long d : shape) {
                numel = Math.multiplyExact(numel, d);
            }
            bytes = dtype.bytes(numel);
        } catch (ArithmeticException ex) {
            throw new CheckpointException(file, name, "size of shape " + Arrays.toString(shape) + " overflows", null);
        } catch (IllegalArgumentException ex) {
            throw new CheckpointException(file, name, "shape " + Arrays.toString(shape) + ": " + ex.getMessage(), null);
        }
        if (!(m.get("data_offsets") instanceof List<?> offs) || offs.size() != 2
                || !(offs.get(0) instanceof Long b) || !(offs.get(1) instanceof Long e)) {
            throw new CheckpointException(file, name, "data_offsets must be an array of two integers, got "
                    + Json.write(m.get("data_offsets")), null);
        }
        if (b < 0 || e < b) {
            throw new CheckpointException(file, name, "invalid data_offsets [" + b + ", " + e + "]: need 0 <= begin <= end",
                    null);
        }
        if (e > dataLen) {
            throw new CheckpointException(file, name, "data_offsets [" + b + ", " + e + "] run past the end of the data ("
                    + dataLen + " bytes after the header): file truncated?", null);
        }
        if (e - b != bytes) {
            throw new CheckpointException(file, name, "data_offsets [" + b + ", " + e + "] hold " + (e - b)
                    + " bytes but shape " + Arrays.toString(shape) + " of " + dtype + " needs " + bytes, null);
        }
        return new TensorInfo(name, dtype, shape, dataStart + b, bytes);
    }

    private static void checkOverlaps(Path file, Map<String, TensorInfo> infos, long dataStart)
            throws CheckpointException {
        List<TensorInfo> sorted = new ArrayList<>(infos.values());
        sorted.removeIf(t -> t.byteSize() == 0); // empty ranges cannot overlap anything
        sorted.sort(Comparator.comparingLong(TensorInfo::offset).thenComparing(TensorInfo::name));
        for (int i = 1; i < sorted.size(); i++) {
            TensorInfo prev = sorted.get(i - 1), cur = sorted.get(i);
            if (cur.offset() < prev.offset() + prev.byteSize()) {
                throw new CheckpointException(file, cur.name(), "data_offsets [" + (cur.offset() - dataStart) + ", "
                        + (cur.offset() - dataStart + cur.byteSize()) + "] overlap those of tensor " + prev.name() + " ["
                        + (prev.offset() - dataStart) + ", " + (prev.offset() - dataStart + prev.byteSize()) + "]", null);
            }
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("safetensors file " + path + " is closed");
        }
    }

    /** {@return the file this object maps} */
    public Path path() {
        return path;
    }

    /**
     * Names of all tensors (without {@code __metadata__}), sorted; unmodifiable.
     *
     * @return the names
     * @throws IllegalStateException if this file is closed
     */
    public SortedSet<String> names() {
        checkOpen();
        return names;
    }

    /**
     * The tensor's header entry, if present.
     *
     * @param name the tensor name
     * @return its entry, or empty if the file has no such tensor
     * @throws IllegalStateException if this file is closed
     */
    public Optional<TensorInfo> find(String name) {
        checkOpen();
        return Optional.ofNullable(tensors.get(name));
    }

    /**
     * The tensor's header entry.
     *
     * @param name the tensor name
     * @return its entry
     * @throws NoSuchElementException if the file has no tensor of that name
     * @throws IllegalStateException  if this file is closed
     */
    public TensorInfo info(String name) {
        checkOpen();
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new NoSuchElementException("no tensor " + name + " in " + path);
        }
        return t;
    }

    /**
     * A read-only view of exactly the tensor's bytes (little-endian, row-major). Its alignment is only
     * guaranteed to be 1; it is valid until {@link #close()}.
     *
     * @param name the tensor name
     * @return a read-only segment of {@code info(name).byteSize()} bytes
     * @throws NoSuchElementException if the file has no tensor of that name
     * @throws IllegalStateException  if this file is closed
     */
    public MemorySegment data(String name) {
        TensorInfo t = info(name);
        return mapped.asSlice(t.offset(), t.byteSize()).asReadOnly();
    }

    /**
     * The {@code __metadata__} map (empty if absent); unmodifiable.
     *
     * @return the metadata
     * @throws IllegalStateException if this file is closed
     */
    public Map<String, String> metadata() {
        checkOpen();
        return metadata;
    }

    /**
     * Copies a floating-point tensor (F64, F32, F16 or BF16) into a new {@code float[]}, converting
     * each element exactly as a cast would (F64 rounds to nearest).
     *
     * @param name the tensor name
     * @return its elements, row-major
     * @throws NoSuchElementException   if the tensor does not exist
     * @throws IllegalArgumentException if it is not floating-point or too large for a Java array
     */
    public float[] readFloats(String name) {
        TensorInfo t = info(name);
        if (!t.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(path + ": tensor " + name + " has dtype " + t.dtype()
                    + ", not a floating-point type");
        }
        int n = arrayLength(t);
        MemorySegment src = data(name);
        float[] out = new float[n];
        switch (t.dtype()) {
            case F32 -> MemorySegment.copy(src, F32_LE, 0, out, 0, n);
            case F64 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = (float) src.getAtIndex(F64_LE, i);
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.float16ToFloat(src.getAtIndex(I16_LE, i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.intBitsToFloat((src.getAtIndex(I16_LE, i) & 0xffff) << 16);
                }
            }
            default -> throw new AssertionError(t.dtype());
        }
        return out;
    }

    /**
     * Copies an integer or boolean tensor (I64, I32, I16, I8, U8 unsigned, BOOL as 0/1) into a new
     * {@code long[]}.
     *
     * @param name the tensor name
     * @return its elements, row-major
     * @throws NoSuchElementException   if the tensor does not exist
     * @throws IllegalArgumentException if it is floating-point or too large for a Java array
     */
    public long[] readLongs(String name) {
        TensorInfo t = info(name);
        if (t.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(path + ": tensor " + name + " has dtype " + t.dtype()
                    + ", not an integer type");
        }
        int n = arrayLength(t);
        MemorySegment src = data(name);
        long[] out = new long[n];
        switch (t.dtype()) {
            case I64 -> MemorySegment.copy(src, I64_LE, 0, out, 0, n);
            case I32 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = src.getAtIndex(I32_LE, i);
                }
            }
            case I16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = src.getAtIndex(I16_LE, i);
                }
            }
            case I8 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = src.get(ValueLayout.JAVA_BYTE, i);
                }
            }
            case U8 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = src.get(ValueLayout.JAVA_BYTE, i) & 0xff;
                }
            }
            case BOOL -> {
                for (int i = 0; i < n; i++) {
                    out[i] = src.get(ValueLayout.JAVA_BYTE, i) != 0 ? 1 : 0;
                }
            }
            default -> throw new AssertionError(t.dtype());
        }
        return out;
    }

    private int arrayLength(TensorInfo t) {
        long n = t.numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(path + ": tensor " + t.name() + " has " + n
                    + " elements, too many for a Java array; use data() instead");
        }
        return (int) n;
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
        return "SafetensorsFile[" + path + (closed ? ", closed" : ", " + tensors.size() + " tensors") + "]";
    }
}
