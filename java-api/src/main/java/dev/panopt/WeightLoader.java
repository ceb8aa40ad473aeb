package dev.panopt;

import dev.panopt.internal.WeightConversion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Decides each weight's stored type from a {@link Quantization} and produces the bytes the native
 * model is given: the checkpoint's mapped bytes when the type stays, else a converted copy in native
 * memory. Conversion goes tensor by tensor and, within a tensor, in chunks of rows spread over the
 * loading thread and a {@link RowWorkers} pool, each chunk converted through a small f32 scratch
 * buffer of its thread: peak memory is the converted weights plus a few MB, never a whole tensor
 * (let alone the model) in f32. Used by one loading thread.
 */
final class WeightLoader {
    /** f32 elements per chunk of rows (1 MB of scratch per thread), at least one row. */
    private static final long CHUNK_ELEMS = 1L << 18;

    private WeightLoader() {}

    /**
     * One use of a weight by the native model: its source (bytes of the whole tensor, stored type,
     * shape), its {@code PANOPT_T_*} kind and layer, and its class (empty for vectors). Two uses of
     * one tensor (a tied LM head) have the same name and data and are stored once.
     */
    record Weight(String name, MemorySegment data, DType dtype, List<Long> shape, int kind, int layer,
                  Optional<Quantization.TensorClass> tensorClass) {
        long cols() {
            return shape.get(shape.size() - 1);
        }

        long rows() {
            return shape.size() == 1 ? 1 : shape.get(0);
        }
    }

    /** A weight as the native model receives it. */
    record Bound(Weight weight, MemorySegment data, DType dtype) {}

    /**
     * The bound weights (in the order given), what was decided, the native bytes of the converted
     * copies, and each converted copy's arena by tensor name (the caller owns and closes them).
     */
    record Result(List<Bound> bound, LoadReport report, long convertedBytes, Map<String, Arena> copies) {}

    /**
     * Decides and converts.
     *
     * @param weights   every use of a weight, in binding order
     * @param q         the policy
     * @param numLayers the model's decoder layers (for per-layer rules)
     * @param threads   threads to convert with, the calling thread included
     * @param preload   read the pages of weights that stay mapped
     * @param progress  told of source bytes handled, on the calling thread
     * @return the result; each converted copy lives in its own shared arena, so that the model can
     *     free it as soon as the native model no longer reads it (a repacked weight)
     */
    static Result load(List<Weight> weights, Quantization q, int numLayers, int threads, boolean preload,
                       LoadOptions.LoadProgress progress) {
        // One decision per distinct tensor; a tied head makes the shared tensor an LM_HEAD.
        Map<String, Weight> distinct = new LinkedHashMap<>();
        for (Weight w : weights) {
            Weight seen = distinct.get(w.name());
            boolean lmHead = w.tensorClass().equals(Optional.of(Quantization.TensorClass.LM_HEAD));
            if (seen == null || lmHead) {
                distinct.put(w.name(), seen == null ? w : new Weight(seen.name(), seen.data(), seen.dtype(),
                        seen.shape(), seen.kind(), seen.layer(), w.tensorClass()));
            }
        }
        Map<String, LoadReport.TensorFormat> formats = new LinkedHashMap<>();
        long total = 0;
        for (Weight w : distinct.values()) {
            formats.put(w.name(), decide(w, q, numLayers));
            total += w.data().byteSize();
        }
        Map<String, MemorySegment> data = new LinkedHashMap<>();
        Map<String, Arena> copies = new LinkedHashMap<>();
        long converted = 0;
        long done = 0;
        progress.update(0, total);
        boolean anyConverted = formats.values().stream().anyMatch(LoadReport.TensorFormat::converted);
        try (RowWorkers workers = new RowWorkers(anyConverted ? threads : 1)) {
            for (Weight w : distinct.values()) {
                LoadReport.TensorFormat f = formats.get(w.name());
                if (!f.converted()) {
                    if (preload) {
                        touchPages(w.data());
                    }
                    data.put(w.name(), w.data());
                } else {
                    Arena copy = Arena.ofShared();
                    copies.put(w.name(), copy);
                    MemorySegment dst = copy.allocate(f.storedBytes(), 64);
                    converted += f.storedBytes();
                    convert(w, f.stored(), dst, workers, done, total, progress);
                    data.put(w.name(), dst);
                    if (w.data().isMapped()) {
                        w.data().unload(); // the source pages are not needed any more
                    }
                }
                done += w.data().byteSize();
                progress.update(done, total);
            }
        } catch (RuntimeException | Error e) {
            copies.values().forEach(Arena::close);
            throw e;
        }
        List<Bound> bound = new ArrayList<>();
        for (Weight w : weights) {
            bound.add(new Bound(w, data.get(w.name()), formats.get(w.name()).stored()));
        }
        return new Result(bound, new LoadReport(q.name(), List.copyOf(formats.values())), converted, copies);
    }

    /** The policy's decision for one tensor (as {@link WeightConversion} decides it for every writer). */
    static LoadReport.TensorFormat decide(Weight w, Quantization q, int numLayers) {
        DType requested = WeightConversion.requestedType(q, w.tensorClass(), w.dtype(), w.shape(), w.layer(), numLayers);
        DType stored = WeightConversion.storedType(q, w.tensorClass(), w.dtype(), w.shape(), w.layer(), numLayers);
        return new LoadReport.TensorFormat(w.name(), w.shape(), w.tensorClass(), w.dtype(), requested, stored);
    }

    /**
     * Converts {@code w} into {@code dst} chunk by chunk: each chunk's source rows are copied into
     * aligned scratch (mapped tensors may sit at any offset), widened to f32 and converted.
     */
    private static void convert(Weight w, DType to, MemorySegment dst, RowWorkers workers, long doneBefore, long total,
                                LoadOptions.LoadProgress progress) {
        long rows = w.rows();
        long cols = w.cols();
        long rowsPerChunk = Math.max(1, CHUNK_ELEMS / cols);
        long chunks = (rows + rowsPerChunk - 1) / rowsPerChunk;
        long srcRow = w.dtype().bytes(cols);
        long dstRow = to.bytes(cols);
        long scratchRows = Math.min(rowsPerChunk, rows);
        workers.run(chunks, () -> {
            Arena arena = Arena.ofConfined();
            MemorySegment srcCopy = w.dtype() == DType.F32 ? null : arena.allocate(scratchRows * srcRow, 64);
            MemorySegment f32 = arena.allocate(scratchRows * cols * Float.BYTES, 64);
            return new RowWorkers.Task() {
                @Override
                public long run(long chunk) {
                    long r0 = chunk * rowsPerChunk;
                    long n = Math.min(rowsPerChunk, rows - r0);
                    WeightConversion.convertRows(w.name(), w.dtype(), w.data().asSlice(r0 * srcRow, n * srcRow), to,
                            dst.asSlice(r0 * dstRow, n * dstRow), r0, n, cols, srcCopy, f32);
                    return n * srcRow;
                }

                @Override
                public void close() {
                    arena.close();
                }
            };
        }, bytes -> progress.update(doneBefore + bytes, total));
    }

    /** Reads one byte per page so the OS brings the mapping into memory now. */
    private static void touchPages(MemorySegment s) {
        byte sink = 0;
        for (long off = 0; off < s.byteSize(); off += 4096) {
            sink ^= s.get(ValueLayout.JAVA_BYTE, off);
        }
        if (sink == 42) {
            Thread.onSpinWait(); // keeps the reads observable to the JIT
        }
    }
}
