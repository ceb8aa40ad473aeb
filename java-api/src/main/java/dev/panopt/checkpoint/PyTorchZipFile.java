package dev.panopt.checkpoint;

import dev.panopt.DType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * A memory-mapped, fully validated PyTorch zip checkpoint ({@code torch.save(state_dict)} since torch 1.6,
 * e.g. {@code pytorch_model.bin}).
 *
 * <p>{@link #open} maps the whole file read-only into a segment owned by a shared {@link Arena} that this
 * object creates, parses the zip structure with {@link ZipArchive} (STORED entries only), finds the single
 * {@code <top>/data.pkl} (any one top-level folder name), checks its CRC-32 and interprets it with the
 * restricted {@link TorchPickle} (nothing from the pickle is ever executed). Then, for every tensor:
 * the storage record {@code <top>/data/<key>} exists; its byte size equals storage numel × element size;
 * the view (offset, size, stride) lies inside the storage with overflow-checked arithmetic; and the view is
 * dense row-major (contiguous) — the native side needs dense rows, so a non-contiguous tensor is rejected
 * with a message saying so (it is never copied or reordered). A {@code byteorder} record other than
 * {@code little} is rejected (big-endian checkpoints are not supported). Tensors may share a storage
 * (tied weights).
 *
 * <p>Zero-copy: each tensor's bytes are a read-only slice of the mapped file; the storages' CRC-32s are
 * not checked (that would read every byte of a multi-GB file at open).
 *
 * <p>Ownership: this object owns the mapping; segments returned by {@link #data} become inaccessible after
 * {@link #close()}.
 *
 * <p>Thread-safety: read methods may be called concurrently after {@code open}; {@link #close()} is
 * idempotent and may be called from any thread, after which read methods throw
 * {@link IllegalStateException}.
 */
final class PyTorchZipFile implements TensorSource {
    /** Largest {@code data.pkl} accepted (a state dict pickle is a few hundred bytes per tensor). */
    public static final long MAX_PICKLE_BYTES = 256L * 1024 * 1024;

    private static final String PICKLE = "data.pkl";

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapped;
    private final Map<String, TensorInfo> tensors; // unmodifiable, pickle order
    private volatile boolean closed;

    private PyTorchZipFile(Path path, Arena arena, MemorySegment mapped, Map<String, TensorInfo> tensors) {
        this.path = path;
        this.arena = arena;
        this.mapped = mapped;
        this.tensors = tensors;
    }

    /**
     * Maps and validates {@code file}.
     *
     * @throws CheckpointException if the file is not a valid torch zip checkpoint of contiguous tensors
     * @throws IOException         if the file cannot be read
     */
    public static PyTorchZipFile open(Path file) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment seg = MappedFiles.mapReadOnly(file, arena);
            if (seg.byteSize() == 0) {
                throw new CheckpointException(file, "empty file, not a PyTorch zip checkpoint");
            }
            if (seg.byteSize() >= 2 && (seg.get(ValueLayout.JAVA_BYTE, 0) & 0xFF) == 0x80
                    && seg.get(ValueLayout.JAVA_BYTE, 1) == 2) {
                throw new CheckpointException(file, "legacy (pre-1.6, non-zip) torch.save format is not supported;"
                        + " re-save with a current torch or convert to model.safetensors");
            }
            ZipArchive zip = ZipArchive.parse(file, seg);
            Map<String, TensorInfo> infos = validate(file, zip);
            PyTorchZipFile f = new PyTorchZipFile(file, arena, seg, infos);
            arena = null; // ownership passed
            return f;
        } finally {
            if (arena != null) {
                arena.close();
            }
        }
    }

    private static Map<String, TensorInfo> validate(Path file, ZipArchive zip) throws CheckpointException {
        List<String> pickles = new ArrayList<>();
        for (String name : zip.entries().keySet()) {
            int slash = name.indexOf('/');
            if (slash > 0 && name.substring(slash + 1).equals(PICKLE)) {
                pickles.add(name);
            }
        }
        if (pickles.isEmpty()) {
            throw new CheckpointException(file, "no <folder>/" + PICKLE + " record: not a torch.save zip checkpoint");
        }
        if (pickles.size() > 1) {
            throw new CheckpointException(file, "more than one " + PICKLE + " record " + pickles
                    + ": ambiguous torch checkpoint");
        }
        String pklName = pickles.get(0);
        String top = pklName.substring(0, pklName.length() - PICKLE.length()); // ends with '/'
        checkByteOrder(file, zip, top);
        ZipArchive.Entry pkl = zip.find(pklName).orElseThrow();
        if (pkl.size() > MAX_PICKLE_BYTES) {
            throw new CheckpointException(file, pklName + " is " + pkl.size() + " bytes, above the "
                    + MAX_PICKLE_BYTES + "-byte cap");
        }
        zip.verifyCrc(pkl);
        byte[] bytes = zip.data(pkl).toArray(ValueLayout.JAVA_BYTE);
        Map<String, TorchPickle.TensorRef> refs = TorchPickle.parseStateDict(file, pklName, bytes);

        LinkedHashMap<String, TensorInfo> out = new LinkedHashMap<>();
        for (Map.Entry<String, TorchPickle.TensorRef> e : refs.entrySet()) {
            out.put(e.getKey(), tensorInfo(file, zip, top, e.getKey(), e.getValue()));
        }
        return Collections.unmodifiableMap(out);
    }

    /** A {@code byteorder} record, if present, must say {@code little}. */
    private static void checkByteOrder(Path file, ZipArchive zip, String top) throws CheckpointException {
        for (String name : List.of(top + "byteorder", top + ".data/byteorder")) {
            ZipArchive.Entry e = zip.find(name).orElse(null);
            if (e == null) {
                continue;
            }
            if (e.size() > 16) {
                throw new CheckpointException(file, name + " record of " + e.size() + " bytes is not a byte order");
            }
            String order = new String(zip.data(e).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII).strip();
            if (order.equals("big")) {
                throw new CheckpointException(file, "big-endian checkpoint (" + name
                        + " = big) is not supported; only little-endian storages can be mapped");
            }
            if (!order.equals("little")) {
                throw new CheckpointException(file, name + " record says \"" + TorchPickle.printable(order)
                        + "\", expected \"little\"");
            }
        }
    }

    private static TensorInfo tensorInfo(Path file, ZipArchive zip, String top, String name,
            TorchPickle.TensorRef t) throws CheckpointException {
        TorchPickle.StorageRef s = t.storage();
        DType dtype = s.dtype();
        String record = top + "data/" + s.key();
        ZipArchive.Entry entry = zip.find(record).orElseThrow(() -> new CheckpointException(file, name,
                "storage record " + record + " is missing from the archive", null));
        long storageBytes;
        try {
            storageBytes = dtype.bytes(s.numel());
        } catch (ArithmeticException | IllegalArgumentException ex) {
            throw new CheckpointException(file, name, "storage " + s.key() + " of " + s.numel() + " elements overflows",
                    null);
        }
        if (entry.size() != storageBytes) {
            throw new CheckpointException(file, name, "storage record " + record + " holds " + entry.size()
                    + " bytes but the pickle declares " + s.numel() + " x " + dtype + " = " + storageBytes + " bytes", null);
        }
        long[] size = t.size();
        long[] stride = t.stride();
        String view = "view (offset " + t.offset() + ", size " + Arrays.toString(size) + ", stride "
                + Arrays.toString(stride) + ")";
        long numel;
        long lastIndex = t.offset(); // index of the last element, when numel > 0
        try {
            numel = TensorInfo.numel(size);
            dtype.bytes(numel);
            for (int i = 0; i < size.length; i++) {
                if (size[i] > 0) {
                    lastIndex = Math.addExact(lastIndex, Math.multiplyExact(size[i] - 1, stride[i]));
                }
            }
        } catch (ArithmeticException | IllegalArgumentException ex) {
            throw new CheckpointException(file, name, view + ": element count or extent overflows", null);
        }
        if (numel == 0 ? t.offset() > s.numel() : lastIndex >= s.numel()) {
            throw new CheckpointException(file, name, view + " reaches past the end of storage " + s.key() + " ("
                    + s.numel() + " elements)", null);
        }
        if (numel > 0) {
            long expect = 1;
            for (int i = size.length - 1; i >= 0; i--) {
                if (size[i] != 1 && stride[i] != expect) {
                    throw new CheckpointException(file, name, view + " is not contiguous row-major; only dense"
                            + " tensors are supported (re-save with tensor.contiguous())", null);
                }
                expect *= size[i]; // cannot overflow: numel did not
            }
        }
        long offsetBytes = dtype.bytes(t.offset()); // <= storageBytes, so no overflow
        return new TensorInfo(name, dtype, size, entry.dataOffset() + offsetBytes, dtype.bytes(numel));
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("PyTorch checkpoint " + path + " is closed");
        }
    }

    @Override
    public Path file() {
        return path;
    }

    /** Names as stored in the state dict, in pickle order; unmodifiable. */
    @Override
    public Set<String> names() {
        checkOpen();
        return tensors.keySet();
    }

    /**
     * The tensor's location ({@code offset} is absolute in the file).
     *
     * @throws NoSuchElementException if there is no such tensor
     */
    @Override
    public TensorInfo info(String name) {
        checkOpen();
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new NoSuchElementException("no tensor " + name + " in " + path);
        }
        return t;
    }

    /**
     * A read-only view of exactly the tensor's bytes (little-endian, row-major, alignment 1), valid until
     * {@link #close()}.
     *
     * @throws NoSuchElementException if there is no such tensor
     */
    @Override
    public MemorySegment data(String name) {
        TensorInfo t = info(name);
        return mapped.asSlice(t.offset(), t.byteSize()).asReadOnly();
    }

    /** Unmaps the file. Idempotent. */
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
        return "PyTorchZipFile[" + path + (closed ? ", closed" : ", " + tensors.size() + " tensors") + "]";
    }
}
