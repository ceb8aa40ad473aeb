package dev.panopt.checkpoint;

import dev.panopt.DType;
import dev.panopt.OptConfig;
import dev.panopt.internal.Json;
import dev.panopt.internal.PretrainedFiles;
import dev.panopt.internal.WeightLayout;
import dev.panopt.internal.WeightSpec;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * A Hugging Face OPT checkpoint directory: {@code config.json} plus weights in
 * {@code model.safetensors} or sharded per {@code model.safetensors.index.json}, or else in a PyTorch
 * zip checkpoint {@code pytorch_model.bin} or sharded per {@code pytorch_model.bin.index.json}.
 *
 * <p>Weight files are looked for in Hugging Face's order: {@code model.safetensors},
 * {@code model.safetensors.index.json}, {@code pytorch_model.bin}, {@code pytorch_model.bin.index.json};
 * the first present is used and the others are ignored (logged). PyTorch files are read by a strict
 * zip reader and a restricted pickle interpreter that never executes anything from the file; their
 * tensors must be contiguous (dense row-major): a strided view is rejected, never copied.
 *
 * <p>Names: tensors are exposed under canonical names, the file's name with a leading
 * {@code model.} removed ({@code model.decoder.layers.0.fc1.weight} and
 * {@code decoder.layers.0.fc1.weight} are both {@code decoder.layers.0.fc1.weight}); head tensors
 * ({@code lm_head.weight}, {@code score.weight}, {@code qa_outputs.*}) keep their names. Two stored
 * tensors with the same canonical name are an error.
 *
 * <p>GGUF: {@link #open} also takes a single {@code .gguf} file that Panopt's {@link OptGguf} wrote (or any
 * file with {@code general.architecture = "opt"} and its keys): the config comes from its {@code opt.*}
 * keys and the tensors are exposed under the same canonical Hugging Face names (GGUF's
 * {@code blk.0.attn_q.weight} is {@code decoder.layers.0.self_attn.q_proj.weight}); their weights may be
 * in any type the native library computes with, block-quantized ones included, and are handed to native
 * code straight from the mapping.
 *
 * <p>Ownership: the checkpoint owns every file it maps; {@link #close()} unmaps them all, after which
 * segments handed out by {@link #find}/{@link #require} are inaccessible.
 *
 * <p>Thread-safety: immutable after {@link #open}; all read methods may be called concurrently.
 * After {@link #close()} (callable from any thread, idempotent) they throw {@link IllegalStateException}.
 */
public final class Checkpoint implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Checkpoint.class.getName());

    private static final String SAFETENSORS = PretrainedFiles.SAFETENSORS;
    private static final String SAFETENSORS_INDEX = PretrainedFiles.SAFETENSORS_INDEX;
    private static final String PYTORCH = PretrainedFiles.PYTORCH;
    private static final String PYTORCH_INDEX = PretrainedFiles.PYTORCH_INDEX;

    /** Opens one weight file. */
    private interface Opener {
        TensorSource open(Path file) throws IOException;
    }

    private static final Opener SAFETENSORS_OPENER = f -> FileSource.of(SafetensorsFile.open(f));
    private static final Opener PYTORCH_OPENER = PyTorchZipFile::open;
    private static final Set<DType> WEIGHT_DTYPES = Collections.unmodifiableSet(EnumSet.of(DType.F32, DType.F16, DType.BF16));
    /** A GGUF file's weights may be in any type the native library takes (ggml's block formats too). */
    private static final Set<DType> GGUF_WEIGHT_DTYPES = nativeTypes();

    private static Set<DType> nativeTypes() {
        EnumSet<DType> out = EnumSet.noneOf(DType.class);
        for (DType d : DType.values()) {
            if (d.isNative()) {
                out.add(d);
            }
        }
        return Collections.unmodifiableSet(out);
    }

    /** Where a canonical name lives: the source and the name as stored there. */
    private record Location(TensorSource source, String storedName) {}

    private final Path directory;
    private final OptConfig config;
    private final List<TensorSource> sources;
    private final Map<String, Location> tensors;
    private final SortedSet<String> names;
    private final Set<DType> weightTypes;
    private volatile boolean closed;

    private Checkpoint(Path directory, OptConfig config, List<TensorSource> sources, Map<String, Location> tensors,
                       Set<DType> weightTypes) {
        this.directory = directory;
        this.weightTypes = weightTypes;
        this.config = config;
        this.sources = List.copyOf(sources);
        this.tensors = Collections.unmodifiableMap(tensors);
        this.names = Collections.unmodifiableSortedSet(new TreeSet<>(tensors.keySet()));
    }

    /**
     * Opens a checkpoint directory (parses {@code config.json} and maps and validates every weight file) or an
     * OPT GGUF file (maps and validates it, reads the config from its keys). The weights are not checked
     * against the config here; call {@link #validateDecoder()}.
     *
     * @param directory the checkpoint directory, or a {@code .gguf} file
     * @return the open checkpoint; the caller closes it
     * @throws CheckpointException if the directory, config, index or a weight file is missing or malformed
     * @throws IOException         if a file cannot be read
     */
    public static Checkpoint open(Path directory) throws IOException {
        if (Files.isRegularFile(directory)) {
            return openGguf(directory);
        }
        if (!Files.isDirectory(directory)) {
            throw new CheckpointException(directory, "not a checkpoint directory (need config.json and weights)"
                    + " nor a GGUF file");
        }
        OptConfig config = OptConfig.load(directory.resolve(PretrainedFiles.CONFIG));
        List<TensorSource> sources = new ArrayList<>();
        boolean ok = false;
        try {
            Map<String, Location> tensors = new TreeMap<>();
            List<String> candidates = PretrainedFiles.WEIGHTS;
            String chosen = null;
            for (String c : candidates) {
                if (Files.exists(directory.resolve(c))) {
                    if (chosen == null) {
                        chosen = c;
                    } else {
                        LOG.log(System.Logger.Level.INFO, "{0}: using {1}, ignoring {2}", directory, chosen, c);
                    }
                }
            }
            if (chosen == null) {
                throw new CheckpointException(directory, "no weights found: expected " + SAFETENSORS + ", "
                        + SAFETENSORS_INDEX + ", " + PYTORCH + " or " + PYTORCH_INDEX);
            }
            Path chosenPath = directory.resolve(chosen);
            switch (chosen) {
                case SAFETENSORS, PYTORCH -> {
                    TensorSource src = (chosen.equals(PYTORCH) ? PYTORCH_OPENER : SAFETENSORS_OPENER).open(chosenPath);
                    sources.add(src);
                    for (String stored : src.names()) {
                        put(tensors, canonicalName(stored), new Location(src, stored));
                    }
                }
                case SAFETENSORS_INDEX -> loadSharded(directory, chosenPath, sources, tensors, SAFETENSORS_OPENER);
                default -> loadSharded(directory, chosenPath, sources, tensors, PYTORCH_OPENER);
            }
            Checkpoint cp = new Checkpoint(directory, config, sources, tensors, WEIGHT_DTYPES);
            ok = true;
            return cp;
        } finally {
            if (!ok) {
                closeAll(sources);
            }
        }
    }

    private static void loadSharded(Path directory, Path index, List<TensorSource> sources,
            Map<String, Location> tensors, Opener opener) throws IOException {
        Map<String, Object> root;
        try {
            String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(Files.readAllBytes(index))).toString();
            root = Json.asObject(Json.parse(text), "index");
        } catch (CharacterCodingException e) {
            throw new CheckpointException(index, "not valid UTF-8", e);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(index, e.getMessage(), e);
        }
        if (!(root.get("weight_map") instanceof Map<?, ?> weightMap)) {
            throw new CheckpointException(index, "\"weight_map\" must be an object of tensor name -> shard file, got "
                    + Json.typeName(root.get("weight_map")));
        }
        Map<String, TensorSource> shards = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : weightMap.entrySet()) {
            String stored = (String) e.getKey();
            if (!(e.getValue() instanceof String shardName)) {
                throw new CheckpointException(index, stored, "weight_map value must be a file name, got "
                        + Json.typeName(e.getValue()), null);
            }
            TensorSource src = shards.get(shardName);
            if (src == null) {
                Path shard = shardPath(directory, index, stored, shardName);
                if (!Files.isRegularFile(shard)) {
                    throw new CheckpointException(index, stored, "shard file " + shardName + " not found in " + directory,
                            null);
                }
                src = opener.open(shard);
                sources.add(src);
                shards.put(shardName, src);
                LOG.log(System.Logger.Level.DEBUG, "opened shard {0} ({1} tensors)", shard, src.names().size());
            }
            if (!src.names().contains(stored)) {
                throw new CheckpointException(src.file(), stored, "listed in " + index.getFileName()
                        + " but not present in this shard", null);
            }
            put(tensors, canonicalName(stored), new Location(src, stored));
        }
        for (TensorSource src : shards.values()) {
            for (String stored : src.names()) {
                if (!weightMap.containsKey(stored)) {
                    LOG.log(System.Logger.Level.DEBUG, "{0}: tensor {1} is not in the weight_map; ignored", src.file(),
                            stored);
                }
            }
        }
    }

    /** Resolves a shard name from the index, which must be a plain file name inside the directory. */
    private static Path shardPath(Path directory, Path index, String tensor, String shardName) throws CheckpointException {
        boolean plain = !shardName.isEmpty() && !shardName.equals(".") && !shardName.equals("..")
                && shardName.indexOf('/') < 0 && shardName.indexOf('\\') < 0 && shardName.indexOf('\0') < 0
                && shardName.indexOf(':') < 0;
        if (plain) {
            Path p;
            try {
                p = directory.resolve(shardName);
            } catch (java.nio.file.InvalidPathException e) {
                throw new CheckpointException(index, tensor, "invalid shard name \"" + shardName + "\"", e);
            }
            // Belt and braces: the resolved path must be exactly directory/<name>.
            if (directory.equals(p.getParent()) && p.getFileName().toString().equals(shardName)) {
                return p;
            }
        }
        throw new CheckpointException(index, tensor, "shard name \"" + shardName
                + "\" must be a plain file name inside the checkpoint directory", null);
    }

    /** A GGUF file: the config from its keys, the tensors under their Hugging Face names. */
    private static Checkpoint openGguf(Path file) throws IOException {
        GgufFile gguf = GgufFile.open(file);
        try {
            OptConfig config = OptGgufConfig.read(gguf);
            TensorSource src = FileSource.of(gguf);
            Map<String, Location> tensors = new TreeMap<>();
            for (String stored : gguf.tensorNames()) {
                put(tensors, OptGgufNames.toHf(stored).orElse(stored), new Location(src, stored));
            }
            return new Checkpoint(file, config, List.of(src), tensors, GGUF_WEIGHT_DTYPES);
        } catch (IOException | RuntimeException | Error e) {
            gguf.close();
            throw e;
        }
    }

    private static void put(Map<String, Location> tensors, String canonical, Location loc) throws CheckpointException {
        Location prev = tensors.putIfAbsent(canonical, loc);
        if (prev != null) {
            throw new CheckpointException(loc.source().file(), loc.storedName(), "canonical name " + canonical
                    + " is also provided by tensor " + prev.storedName() + " in " + prev.source().file(), null);
        }
    }

    /** The canonical form of a stored tensor name: without a leading {@code model.}. */
    static String canonicalName(String stored) {
        return stored.startsWith("model.") ? stored.substring("model.".length()) : stored;
    }

    private static void closeAll(List<TensorSource> sources) {
        for (TensorSource s : sources) {
            try {
                s.close();
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "closing " + s.file() + " failed", e);
            }
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("checkpoint " + directory + " is closed");
        }
    }

    /**
     * The parsed {@code config.json}.
     *
     * @return the config
     * @throws IllegalStateException if the checkpoint is closed
     */
    public OptConfig config() {
        checkOpen();
        return config;
    }

    /** {@return the checkpoint directory, or the GGUF file} */
    public Path directory() {
        return directory;
    }

    /**
     * Canonical names of all tensors, sorted; unmodifiable.
     *
     * @return the names (without a {@code model.} prefix)
     * @throws IllegalStateException if the checkpoint is closed
     */
    public SortedSet<String> names() {
        checkOpen();
        return names;
    }

    /**
     * The tensor with this canonical name, if present.
     *
     * @param canonicalName the name without a {@code model.} prefix, e.g. {@code decoder.embed_tokens.weight}
     * @return the tensor, or empty if the checkpoint has none of that name
     * @throws IllegalStateException if the checkpoint is closed
     */
    public Optional<CheckpointTensor> find(String canonicalName) {
        checkOpen();
        Location loc = tensors.get(canonicalName);
        if (loc == null) {
            return Optional.empty();
        }
        return Optional.of(new CheckpointTensor(canonicalName, loc.source().info(loc.storedName()),
                loc.source().data(loc.storedName()), loc.source().file()));
    }

    /**
     * The tensor with this canonical name, which must have exactly {@code shape} (an empty shape means
     * a scalar).
     *
     * @param canonicalName the name without a {@code model.} prefix
     * @param shape         the expected dimensions, outermost first
     * @return the tensor
     * @throws CheckpointException "missing tensor X in DIR" or "tensor X has shape [..], config expects [..]"
     * @throws IllegalStateException if the checkpoint is closed
     */
    public CheckpointTensor require(String canonicalName, long... shape) throws CheckpointException {
        Objects.requireNonNull(canonicalName, "canonicalName");
        Objects.requireNonNull(shape, "shape");
        CheckpointTensor t = find(canonicalName).orElseThrow(() -> CheckpointException.verbatim(
                "missing tensor " + canonicalName + " in " + directory, directory, canonicalName));
        if (!t.info().hasShape(shape)) {
            throw CheckpointException.verbatim("tensor " + canonicalName + " has shape " + Arrays.toString(t.shape())
                    + ", config expects " + Arrays.toString(shape) + " (in " + t.file() + ")", t.file(), canonicalName);
        }
        return t;
    }

    /**
     * Checks that every tensor of {@link WeightLayout#decoderWeights} is present with its shape and a
     * dtype in {F32, F16, BF16} (for a GGUF file: any type the native library computes with), and that head tensors that are present ({@code lm_head.weight}
     * [vocab, proj], {@code score.weight} [num_labels, proj], {@code qa_outputs.weight} [2, proj],
     * {@code qa_outputs.bias} [2]) fit the config. Other tensors are logged and ignored.
     *
     * @throws CheckpointException naming the first offending tensor and its file
     */
    public void validateDecoder() throws CheckpointException {
        checkOpen();
        Set<String> expected = new HashSet<>();
        // Layer by layer, stopping at the first missing tensor: a config claiming a billion layers costs
        // no more than the layers the files really hold.
        for (int i = -1; i < config.numHiddenLayers(); i++) {
            for (WeightSpec spec : i < 0 ? WeightLayout.modelWeights(config) : WeightLayout.layerWeights(config, i)) {
                expected.add(spec.name());
                requireWeight(spec.name(), spec.shape());
            }
        }
        long p = config.wordEmbedProjDim();
        Map<String, long[]> heads = new LinkedHashMap<>();
        heads.put("lm_head.weight", new long[] {config.vocabSize(), p});
        heads.put("score.weight", new long[] {config.numLabels(), p});
        heads.put("qa_outputs.weight", new long[] {2, p});
        heads.put("qa_outputs.bias", new long[] {2});
        for (Map.Entry<String, long[]> h : heads.entrySet()) {
            expected.add(h.getKey());
            if (tensors.containsKey(h.getKey())) {
                requireWeight(h.getKey(), h.getValue());
            }
        }
        List<String> unexpected = new ArrayList<>();
        for (String n : names) {
            if (!expected.contains(n)) {
                unexpected.add(n);
            }
        }
        if (!unexpected.isEmpty()) {
            LOG.log(System.Logger.Level.INFO, "{0}: {1} tensor(s) not used by the OPT decoder or a known head: {2}",
                    directory, unexpected.size(), unexpected.size() > 20 ? unexpected.subList(0, 20) + "..." : unexpected);
        }
    }

    private void requireWeight(String name, long[] shape) throws CheckpointException {
        CheckpointTensor t = require(name, shape);
        if (!weightTypes.contains(t.dtype())) {
            throw CheckpointException.verbatim("tensor " + name + " has dtype " + t.dtype()
                    + ", weights must be " + oneOf(weightTypes) + " (in " + t.file() + ")", t.file(), name);
        }
    }

    /** "A, B or C". */
    private static String oneOf(Set<DType> types) {
        List<String> names = types.stream().map(DType::name).toList();
        return names.size() == 1 ? names.get(0)
                : String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.get(names.size() - 1);
    }

    /**
     * Total number of elements over all tensors of the checkpoint.
     *
     * @return the parameter count
     * @throws IllegalStateException if the checkpoint is closed
     */
    public long parameterCount() {
        checkOpen();
        long n = 0;
        for (Location loc : tensors.values()) {
            n += loc.source().info(loc.storedName()).numel();
        }
        return n;
    }

    /** Unmaps every file. Idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        closeAll(sources);
    }

    @Override
    public String toString() {
        return "Checkpoint[" + directory + (closed ? ", closed" : ", " + tensors.size() + " tensors in "
                + sources.size() + " file(s)") + "]";
    }

    /**
     * One tensor of a {@link Checkpoint}.
     *
     * <p>Ownership: {@code data} is a read-only view into the checkpoint's mapping and is valid only
     * until the checkpoint is closed. The record itself is immutable and thread-safe.
     *
     * @param name the canonical name (without a {@code model.} prefix)
     * @param info the file's header entry (its {@code name} is the name as stored in the file)
     * @param data exactly the tensor's bytes, little-endian, row-major, alignment 1
     * @param file the file the tensor is stored in
     */
    public record CheckpointTensor(String name, TensorInfo info, MemorySegment data, Path file) {
        /**
         * Checks that no component is null.
         *
         * @param name the canonical name (without a {@code model.} prefix)
         * @param info the file's header entry
         * @param data exactly the tensor's bytes
         * @param file the file the tensor is stored in
         * @throws NullPointerException if a component is null
         */
        public CheckpointTensor {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(info, "info");
            Objects.requireNonNull(data, "data");
            Objects.requireNonNull(file, "file");
        }

        /** {@return the element type} */
        public DType dtype() {
            return info.dtype();
        }

        /** {@return a copy of the shape} */
        public long[] shape() {
            return info.shape();
        }

        /** {@return the number of elements (1 for a scalar)} */
        public long numel() {
            return info.numel();
        }
    }

    /** Adapts a {@link SafetensorsFile} or a {@link GgufFile} (the same methods under their own names) to {@link TensorSource}. */
    private record FileSource(Path file, Set<String> names, Function<String, TensorInfo> infos,
                              Function<String, MemorySegment> segments, Runnable closer) implements TensorSource {
        static FileSource of(SafetensorsFile f) {
            return new FileSource(f.path(), f.names(), f::info, f::data, f::close);
        }

        static FileSource of(GgufFile f) {
            return new FileSource(f.path(), f.tensorNames(), f::tensor, f::data, f::close);
        }

        @Override
        public TensorInfo info(String name) {
            return infos.apply(name);
        }

        @Override
        public MemorySegment data(String name) {
            return segments.apply(name);
        }

        @Override
        public void close() {
            closer.run();
        }
    }
}
