package dev.panopt.hub;

import dev.panopt.hub.HubException.Reason;
import dev.panopt.internal.Json;
import dev.panopt.internal.PretrainedFiles;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Files of Hugging Face hub model repositories, through the cache huggingface_hub uses, so that what
 * Python downloaded loads as it is and what this client downloads Python finds: {@code hf_hub_download}
 * ({@link #download}) and what {@code from_pretrained("org/name")} fetches ({@link #downloadModel},
 * {@link #downloadTokenizer}).
 *
 * <p>A file of revision R is looked for as huggingface_hub does: when R is a commit hash and the
 * cache has the file at that commit, it is used without any request; otherwise (unless offline) a
 * HEAD request asks the hub which commit R is and which blob (ETag) the file is, the file is used
 * from the cache when that snapshot has it, else downloaded under a lock into
 * {@code blobs/<etag>} (resumably, through {@code <etag>.incomplete}, checked against the ETag) and
 * linked from {@code snapshots/<commit>/<file>}; {@code refs/R} records the commit. When the hub
 * cannot be reached (or answers with a server error) the cached snapshot that {@code refs/R} names is
 * used; offline ({@link HubOptions#offline()}) only the cache is. A file missing at a commit is
 * recorded in {@code .no_exist/<commit>/} and not asked for again.
 *
 * <p>Ownership and thread-safety: thread-safe; any number of threads may download at once, also
 * the same file (the second waits for the first, then uses its blob), also from several processes.
 * A client made by {@link #create} holds an HTTP client once it has made a request: {@link #close()}
 * it when done. {@link #shared()} lives as long as the JVM.
 */
public final class HubClient implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(HubClient.class.getName());
    /** An index lists tensor names and shard files: tens of kilobytes for the largest OPT models. */
    private static final long MAX_INDEX_BYTES = 64L << 20;
    /** More shards than any published checkpoint has. */
    private static final int MAX_SHARDS = 10_000;

    private static final Object SHARED_LOCK = new Object();
    private static volatile HubClient sharedInstance;

    private final HubOptions options;
    private final HubCache cache;
    private final HubHttp http;
    private final boolean shared;
    private volatile boolean closed;

    private HubClient(HubOptions options, boolean shared) {
        this.options = options;
        this.cache = new HubCache(options.cacheDir());
        this.http = new HubHttp(options);
        this.shared = shared;
    }

    /**
     * A client with these options.
     *
     * @param options endpoint, token, cache, offline mode, progress, timeouts
     * @return the client; the caller closes it
     */
    public static HubClient create(HubOptions options) {
        return new HubClient(Objects.requireNonNull(options, "options"), false);
    }

    /**
     * The client the {@code fromPretrained(String)} methods use: options from the environment
     * variables ({@link HubOptions#builder()}) as they are at its first use. {@link #close()} does
     * nothing on it.
     *
     * @return the shared client
     * @throws IllegalArgumentException if an environment variable is malformed
     */
    public static HubClient shared() {
        HubClient c = sharedInstance;
        if (c == null) {
            synchronized (SHARED_LOCK) {
                c = sharedInstance;
                if (c == null) {
                    c = new HubClient(HubOptions.builder().build(), true);
                    sharedInstance = c;
                }
            }
        }
        return c;
    }

    /** {@return this client's options} */
    public HubOptions options() {
        return options;
    }

    /**
     * One file of a repository, from the cache or downloaded into it: huggingface_hub's
     * {@code hf_hub_download}.
     *
     * @param repo     the repository and revision
     * @param filename the file's path in the repository ({@code /}-separated)
     * @return the file, {@code snapshots/<commit>/<filename>} in the cache
     * @throws IllegalArgumentException if {@code filename} is not a relative path without {@code ..} parts
     * @throws HubException if the file, revision or repository does not exist or cannot be accessed, or
     *     is not cached while offline or while the hub cannot be reached ({@link HubException#reason()})
     * @throws IOException if the cache cannot be written or the download keeps failing
     */
    public Path download(RepoRef repo, String filename) throws IOException {
        Objects.requireNonNull(repo, "repo");
        HubCache.checkFilename(Objects.requireNonNull(filename, "filename"));
        checkOpen();
        return find(repo, filename, true).orElseThrow();
    }

    /**
     * Like {@link #download}, but a file that does not exist at the revision is empty instead of an
     * error; offline, so is a file the cache does not have.
     *
     * @param repo     the repository and revision
     * @param filename the file's path in the repository
     * @return the file, or empty
     * @throws IllegalArgumentException if {@code filename} is not a relative path without {@code ..} parts
     * @throws HubException if the revision or repository does not exist or cannot be accessed
     * @throws IOException if the cache cannot be written or the download keeps failing
     */
    public Optional<Path> downloadIfPresent(RepoRef repo, String filename) throws IOException {
        Objects.requireNonNull(repo, "repo");
        HubCache.checkFilename(Objects.requireNonNull(filename, "filename"));
        checkOpen();
        return find(repo, filename, false);
    }

    /**
     * What {@code from_pretrained} fetches for a model: {@code config.json}, then the weights of the
     * same commit ({@code model.safetensors}, else the sharded {@code model.safetensors.index.json}
     * and every shard it names, else {@code pytorch_model.bin} or its sharded index), then the
     * tokenizer files that exist ({@code vocab.json} and {@code merges.txt}, else
     * {@code tokenizer.json}; {@code tokenizer_config.json}, {@code special_tokens_map.json},
     * {@code added_tokens.json}).
     *
     * @param repo the repository and revision
     * @return the snapshot directory, a checkpoint directory as {@code fromPretrained(Path)} reads it
     * @throws HubException if the repository, revision, config or weights are missing or inaccessible,
     *     or not cached while offline
     * @throws IOException if the cache cannot be written or a download keeps failing
     */
    public Path downloadModel(RepoRef repo) throws IOException {
        Objects.requireNonNull(repo, "repo");
        checkOpen();
        Path config = find(repo, PretrainedFiles.CONFIG, true).orElseThrow();
        RepoRef pinned = repo.withRevision(commitOf(repo, config));
        boolean weights = false;
        for (String w : PretrainedFiles.WEIGHTS) {
            Optional<Path> p = find(pinned, w, false);
            if (p.isPresent()) {
                if (w.endsWith(".index.json")) {
                    for (String shard : shards(pinned, p.get())) {
                        find(pinned, shard, true);
                    }
                }
                weights = true;
                break;
            }
        }
        if (!weights) {
            throw new HubException(options.offline() ? Reason.NOT_CACHED : Reason.ENTRY_NOT_FOUND, 0, pinned
                    + ": no weights: none of " + String.join(", ", PretrainedFiles.WEIGHTS)
                    + (options.offline() ? " is in the cache " + cache.root() + " (offline)" : " exists"), null);
        }
        tokenizerFiles(pinned);
        return snapshotDir(pinned);
    }

    /**
     * What {@code AutoTokenizer.from_pretrained} fetches for OPT: {@code vocab.json} and
     * {@code merges.txt} (else {@code tokenizer.json}), plus {@code tokenizer_config.json},
     * {@code special_tokens_map.json} and {@code added_tokens.json} where they exist; no weights.
     *
     * @param repo the repository and revision
     * @return the snapshot directory holding them
     * @throws HubException if the repository or revision is missing or inaccessible, or it has no
     *     tokenizer files (or, offline, the cache has none)
     * @throws IOException if the cache cannot be written or a download keeps failing
     */
    public Path downloadTokenizer(RepoRef repo) throws IOException {
        Objects.requireNonNull(repo, "repo");
        checkOpen();
        Optional<Path> vocab = find(repo, PretrainedFiles.VOCAB, false);
        Optional<String> commit = vocab.isPresent() ? Optional.of(commitOf(repo, vocab.get())) : cache.commitOf(repo);
        RepoRef pinned = commit.map(repo::withRevision).orElse(repo);
        Optional<Path> found = tokenizerFiles(pinned);
        if (found.isEmpty()) {
            throw new HubException(options.offline() ? Reason.NOT_CACHED : Reason.ENTRY_NOT_FOUND, 0, pinned
                    + ": no tokenizer files: looked for " + PretrainedFiles.VOCAB + " with " + PretrainedFiles.MERGES
                    + ", or " + PretrainedFiles.TOKENIZER_JSON + (options.offline() ? " in the cache " + cache.root()
                    + " (offline)" : ""), null);
        }
        return snapshotDir(pinned.withRevision(commitOf(pinned, found.get())));
    }

    /**
     * The directory a model's {@code fromPretrained(String)} loads: {@code pathOrModelId} itself when
     * it names an existing file or directory, else the {@link #downloadModel} snapshot of the hub
     * model {@code org/name[@revision]} it names.
     *
     * @param pathOrModelId a local path, or a hub model id with an optional revision
     * @return the directory
     * @throws NoSuchFileException if it is neither an existing path nor a model id
     * @throws HubException as {@link #downloadModel} throws it
     * @throws IOException as {@link #downloadModel} throws it
     */
    public Path resolveModel(String pathOrModelId) throws IOException {
        return resolve(Objects.requireNonNull(pathOrModelId, "pathOrModelId"), this::downloadModel);
    }

    /**
     * The directory {@code OptTokenizer.fromPretrained(String)} loads: {@code pathOrModelId} itself
     * when it names an existing file or directory, else the {@link #downloadTokenizer} snapshot of the
     * hub model it names.
     *
     * @param pathOrModelId a local path, or a hub model id with an optional revision
     * @return the directory
     * @throws NoSuchFileException if it is neither an existing path nor a model id
     * @throws HubException as {@link #downloadTokenizer} throws it
     * @throws IOException as {@link #downloadTokenizer} throws it
     */
    public Path resolveTokenizer(String pathOrModelId) throws IOException {
        return resolve(Objects.requireNonNull(pathOrModelId, "pathOrModelId"), this::downloadTokenizer);
    }

    /** Downloads what a repository reference names. */
    @FunctionalInterface
    private interface Snapshot {
        Path download(RepoRef ref) throws IOException;
    }

    /** An existing path as it is; else a model id's snapshot; else {@link NoSuchFileException}. */
    private static Path resolve(String pathOrModelId, Snapshot snapshot) throws IOException {
        Optional<Path> local = existingPath(pathOrModelId);
        if (local.isPresent()) {
            return local.get();
        }
        RepoRef ref = RepoRef.tryParse(pathOrModelId).orElseThrow(() -> new NoSuchFileException(pathOrModelId, null,
                "no such file or directory, and not a Hugging Face model id (org/name[@revision])"));
        try {
            return snapshot.download(ref);
        } catch (HubException e) {
            if (e.reason() != Reason.REPOSITORY_NOT_FOUND) {
                throw e;
            }
            throw new HubException(e.reason(), e.httpStatus().orElse(0), e.getMessage() + "; nor is '"
                    + RepoRef.printable(pathOrModelId) + "' a local path", e);
        }
    }

    /**
     * Releases the HTTP client, aborting downloads in progress on other threads (they throw an
     * {@link IOException}, leaving their {@code .incomplete} file to resume); idempotent; does nothing
     * on {@link #shared()}. Later calls throw {@link IllegalStateException}.
     */
    @Override
    public void close() {
        if (!shared) {
            closed = true;
            http.close();
        }
    }

    @Override
    public String toString() {
        return "HubClient[" + options + "]";
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the HubClient is closed");
        }
    }

    /** The file at the revision: from the cache, or downloaded; empty (when not required) if it does not exist. */
    private Optional<Path> find(RepoRef ref, String filename, boolean required) throws IOException {
        if (ref.isCommit()) {
            Path p = cache.pointer(ref, ref.revision(), filename);
            if (Files.isRegularFile(p)) {
                return Optional.of(p);
            }
            if (cache.knownMissing(ref, ref.revision(), filename)) {
                return absent(ref, filename, required);
            }
        }
        if (options.offline()) {
            Optional<Path> c = cache.cached(ref, filename);
            if (c.isPresent()) {
                return c;
            }
            Optional<String> commit = cache.commitOf(ref);
            if (commit.isPresent() && cache.knownMissing(ref, commit.get(), filename)) {
                return absent(ref, filename, required);
            }
            if (!required) {
                return Optional.empty();
            }
            throw new HubException(Reason.NOT_CACHED, 0, ref + ": " + filename + " is not in the cache "
                    + cache.root() + ", and downloading is off (offline)", null);
        }
        FileMetadata m;
        try {
            m = http.metadata(ref, filename);
        } catch (EntryNotFoundException e) {
            if (e.commit() != null) {
                cache.markMissing(ref, e.commit(), filename);
                writeRefQuietly(ref, e.commit());
            }
            if (required) {
                throw e;
            }
            return Optional.empty();
        } catch (HubException e) {
            if (e.reason() == Reason.REVISION_NOT_FOUND) {
                throw e;
            }
            return Optional.of(fromCacheInstead(ref, filename, e));
        } catch (InterruptedIOException e) {
            throw e;
        } catch (IOException e) {
            return Optional.of(fromCacheInstead(ref, filename, e));
        }
        Path pointer = cache.pointer(ref, m.commit(), filename);
        if (Files.isRegularFile(pointer)) {
            writeRefQuietly(ref, m.commit());
            return Optional.of(pointer);
        }
        cache.writeRef(ref, m.commit());
        cache.tag();
        Path blob = cache.blob(ref, m.etag());
        Files.createDirectories(blob.getParent());
        try (CacheLock lock = CacheLock.acquire(cache.lockFile(ref, m.etag()), ref + " " + filename)) {
            if (!Files.isRegularFile(blob)) {
                LOG.log(System.Logger.Level.DEBUG, "downloading {0} {1} ({2} bytes) from {3}", ref, filename, m.size(),
                        options.endpoint());
                Path incomplete = HubCache.incomplete(blob);
                http.download(m, ref, filename, incomplete);
                HubCache.moveAtomically(incomplete, blob);
            }
            if (!Files.isRegularFile(pointer)) {
                HubCache.link(blob, pointer);
            }
        }
        return Optional.of(pointer);
    }

    /** When the hub could not tell: the cached file of the revision, else the error (huggingface_hub's fallback). */
    private Path fromCacheInstead(RepoRef ref, String filename, IOException error) throws IOException {
        Optional<Path> c = cache.cached(ref, filename);
        if (c.isPresent()) {
            LOG.log(System.Logger.Level.WARNING, "{0}: using the cached {1}: the hub did not answer ({2})", ref,
                    filename, error.getMessage());
            return c.get();
        }
        if (error instanceof HubException h && (h.reason() == Reason.REPOSITORY_NOT_FOUND
                || h.reason() == Reason.GATED_REPOSITORY || h.reason() == Reason.UNAUTHORIZED)) {
            throw h;
        }
        throw new HubException(Reason.NOT_CACHED, 0, ref + ": " + filename + " could not be had from "
                + options.endpoint() + " (" + error.getMessage() + ") and the cache " + cache.root() + " has no copy",
                error);
    }

    private Optional<Path> absent(RepoRef ref, String filename, boolean required) throws HubException {
        if (required) {
            throw new HubException(Reason.ENTRY_NOT_FOUND, 0, ref + ": " + filename + " does not exist (recorded in "
                    + cache.root() + ")", null);
        }
        return Optional.empty();
    }

    private void writeRefQuietly(RepoRef ref, String commit) {
        try {
            cache.writeRef(ref, commit);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot record {0} = {1}: {2}", ref, commit, e.toString());
        }
    }

    /** The tokenizer files that exist at the (pinned) revision; returns one of the vocabulary files found. */
    private Optional<Path> tokenizerFiles(RepoRef pinned) throws IOException {
        Optional<Path> vocab = find(pinned, PretrainedFiles.VOCAB, false);
        Optional<Path> found = vocab.isPresent() && find(pinned, PretrainedFiles.MERGES, false).isPresent() ? vocab
                : find(pinned, PretrainedFiles.TOKENIZER_JSON, false);
        if (found.isPresent()) {
            for (String extra : PretrainedFiles.TOKENIZER_EXTRAS) {
                find(pinned, extra, false);
            }
        }
        return found;
    }

    /** The commit of a file found in the cache: the snapshot it lies in. */
    private String commitOf(RepoRef ref, Path file) {
        return cache.storage(ref).resolve("snapshots").relativize(file).getName(0).toString();
    }

    private Path snapshotDir(RepoRef pinned) {
        return cache.storage(pinned).resolve("snapshots").resolve(pinned.revision());
    }

    /** The distinct shard files a sharded index names, each checked as a file name. */
    private static Set<String> shards(RepoRef ref, Path index) throws IOException {
        String name = index.getFileName().toString();
        if (Files.size(index) > MAX_INDEX_BYTES) {
            throw new HubException(Reason.BAD_RESPONSE, 0, ref + ": " + name + " is over " + MAX_INDEX_BYTES
                    + " bytes", null);
        }
        Set<String> shards = new LinkedHashSet<>();
        try {
            Object root = Json.parse(Files.readString(index, StandardCharsets.UTF_8));
            if (!(Json.asObject(root, name).get("weight_map") instanceof Map<?, ?> map)) {
                throw new IllegalArgumentException("\"weight_map\" must be an object of tensor name -> shard file");
            }
            for (Object v : map.values()) {
                if (!(v instanceof String s)) {
                    throw new IllegalArgumentException("a weight_map value is " + Json.typeName(v) + ", not a file name");
                }
                if (shards.add(HubCache.checkFilename(s)) && shards.size() > MAX_SHARDS) {
                    throw new IllegalArgumentException("more than " + MAX_SHARDS + " shards");
                }
            }
        } catch (IllegalArgumentException | java.nio.charset.CharacterCodingException e) {
            throw new HubException(Reason.BAD_RESPONSE, 0, ref + ": " + name + ": " + e.getMessage(), e);
        }
        return shards;
    }

    private static Optional<Path> existingPath(String s) {
        try {
            Path p = Path.of(s);
            return Files.exists(p) ? Optional.of(p) : Optional.empty();
        } catch (InvalidPathException e) {
            return Optional.empty();
        }
    }
}
