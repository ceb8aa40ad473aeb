package dev.panopt.hub;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.UUID;

/**
 * huggingface_hub's cache layout ({@code file_download.py}), shared with Python:
 *
 * <pre>
 * &lt;cache&gt;/models--org--name/refs/&lt;revision&gt;              the commit a branch or tag pointed to
 *                        /blobs/&lt;etag&gt;                   file contents, named by ETag (git sha1 or LFS sha256)
 *                        /blobs/&lt;etag&gt;.incomplete        a download in progress (resumable)
 *                        /snapshots/&lt;commit&gt;/&lt;file&gt;      symlink to ../../blobs/&lt;etag&gt;
 *                        /.no_exist/&lt;commit&gt;/&lt;file&gt;      empty: the file does not exist at that commit
 * &lt;cache&gt;/.locks/models--org--name/&lt;etag&gt;.lock         lock of a blob's download
 * &lt;cache&gt;/CACHEDIR.TAG
 * </pre>
 *
 * Every path is built from checked parts (repository id, revision, commit, ETag, file name), and
 * the file's path is checked again to lie inside its snapshot.
 */
final class HubCache {
    private static final System.Logger LOG = System.getLogger(HubCache.class.getName());
    private static final int MAX_FILENAME_LENGTH = 1024;
    /** A ref file holds a 40-character commit hash; more is not one. */
    private static final long MAX_REF_BYTES = 1024;
    private static final String CACHEDIR_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n"
            + "# This file is a cache directory tag created by huggingface_hub.\n"
            + "# For information about cache directory tags, see:\n"
            + "#\thttps://bford.info/cachedir/\n";

    private final Path root;

    HubCache(Path root) {
        this.root = root;
    }

    Path root() {
        return root;
    }

    /** {@code models--org--name}: huggingface_hub's {@code repo_folder_name} for a model repository. */
    static String folderName(RepoRef ref) {
        return "models--" + ref.repoId().replace("/", "--");
    }

    Path storage(RepoRef ref) {
        return root.resolve(folderName(ref));
    }

    /** {@code snapshots/<commit>/<filename>}, checked to lie inside the snapshot. */
    Path pointer(RepoRef ref, String commit, String filename) throws HubException {
        Path snapshot = storage(ref).resolve("snapshots").resolve(commit);
        return inside(snapshot, filename, ref);
    }

    /** {@code .no_exist/<commit>/<filename>}. */
    private Path noExist(RepoRef ref, String commit, String filename) throws HubException {
        return inside(storage(ref).resolve(".no_exist").resolve(commit), filename, ref);
    }

    Path blob(RepoRef ref, String etag) {
        return storage(ref).resolve("blobs").resolve(etag);
    }

    static Path incomplete(Path blob) {
        return blob.resolveSibling(blob.getFileName() + ".incomplete");
    }

    Path lockFile(RepoRef ref, String etag) {
        return root.resolve(".locks").resolve(folderName(ref)).resolve(etag + ".lock");
    }

    /**
     * The commit a revision stands for here: the revision itself when it is a commit hash, else what
     * {@code refs/<revision>} holds (empty when there is no such ref, or it does not hold a hash).
     */
    Optional<String> commitOf(RepoRef ref) {
        if (ref.isCommit()) {
            return Optional.of(ref.revision());
        }
        Path refFile = storage(ref).resolve("refs").resolve(ref.revision());
        try {
            if (!Files.isRegularFile(refFile) || Files.size(refFile) > MAX_REF_BYTES) {
                return Optional.empty();
            }
            String commit = Files.readString(refFile, StandardCharsets.UTF_8).strip();
            if (RepoRef.isCommitHash(commit)) {
                return Optional.of(commit);
            }
            LOG.log(System.Logger.Level.WARNING, "{0} does not hold a commit hash; ignored", refFile);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot read {0}: {1}", refFile, e.toString());
        }
        return Optional.empty();
    }

    /** The cached file of {@code ref}'s revision, if there is one (a dangling symlink is not one). */
    Optional<Path> cached(RepoRef ref, String filename) throws HubException {
        Optional<String> commit = commitOf(ref);
        if (commit.isPresent()) {
            Path p = pointer(ref, commit.get(), filename);
            if (Files.isRegularFile(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** Whether the cache records that {@code filename} does not exist at {@code commit}. */
    boolean knownMissing(RepoRef ref, String commit, String filename) throws HubException {
        return Files.isRegularFile(noExist(ref, commit, filename));
    }

    /** Records that {@code filename} does not exist at {@code commit}; best effort, as huggingface_hub. */
    void markMissing(RepoRef ref, String commit, String filename) throws HubException {
        Path marker = noExist(ref, commit, filename);
        try {
            Files.createDirectories(marker.getParent());
            Files.createFile(marker);
        } catch (FileAlreadyExistsException e) {
            // recorded already
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot record that {0} does not exist: {1}", marker, e.toString());
        }
    }

    /**
     * Records that {@code ref}'s revision is {@code commit} ({@code refs/<revision>}), replaced
     * atomically so that readers never see half a hash. Nothing for a commit revision.
     */
    void writeRef(RepoRef ref, String commit) throws IOException {
        if (ref.revision().equals(commit)) {
            return;
        }
        if (commitOf(ref).filter(commit::equals).isPresent()) {
            return; // unchanged: do not write (the cache may be read-only)
        }
        Path refFile = storage(ref).resolve("refs").resolve(ref.revision());
        Files.createDirectories(refFile.getParent());
        replace(refFile, tmp -> Files.writeString(tmp, commit, StandardCharsets.UTF_8));
    }

    /** Writes {@code CACHEDIR.TAG} in the cache root when it is missing; best effort. */
    void tag() {
        Path tag = root.resolve("CACHEDIR.TAG");
        if (Files.exists(tag)) {
            return;
        }
        try {
            Files.createDirectories(root);
            Files.writeString(tag, CACHEDIR_TAG, StandardCharsets.UTF_8);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot write {0}: {1}", tag, e.toString());
        }
    }

    /**
     * Makes {@code pointer} a relative symlink to {@code blob} ({@code ../../blobs/<etag>}), or a copy
     * of it where the file system has no symlinks, as huggingface_hub does.
     */
    static void link(Path blob, Path pointer) throws IOException {
        Files.createDirectories(pointer.getParent());
        Path target = pointer.getParent().relativize(blob);
        try {
            Files.deleteIfExists(pointer);
            Files.createSymbolicLink(pointer, target);
        } catch (FileAlreadyExistsException e) {
            // another thread or process linked it between the delete and the create: fine if to the blob
            if (!Files.isSymbolicLink(pointer) || !Files.isSameFile(pointer, blob)) {
                throw e;
            }
        } catch (UnsupportedOperationException | IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "no symlink at {0} ({1}); copying the blob", pointer, e.toString());
            replace(pointer, tmp -> Files.copy(blob, tmp, StandardCopyOption.REPLACE_EXISTING));
        }
    }

    /** Writes a file's new content. */
    @FunctionalInterface
    private interface Writer {
        void write(Path file) throws IOException;
    }

    /**
     * Replaces {@code target} by a temporary sibling that {@code writer} fills, renamed over it, so
     * that a reader (another process) sees the old or the new file, never half of one.
     */
    private static void replace(Path target, Writer writer) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + "." + UUID.randomUUID().toString().substring(0, 8)
                + ".tmp");
        try {
            writer.write(tmp);
            moveAtomically(tmp, target);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static void moveAtomically(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * Checks a file's path in a repository (given by the user or read from an index the server sent):
     * '/'-separated, relative, each part non-empty and neither {@code .} nor {@code ..}, no backslash,
     * colon or control character, at most 1024 characters.
     *
     * @throws IllegalArgumentException naming the rule it breaks
     */
    static String checkFilename(String name) {
        String problem = null;
        if (name.isEmpty() || name.length() > MAX_FILENAME_LENGTH) {
            problem = "must have 1 to " + MAX_FILENAME_LENGTH + " characters";
        } else {
            for (int i = 0; i < name.length() && problem == null; i++) {
                char c = name.charAt(i);
                if (c < ' ' || c == 0x7f || c == '\\' || c == ':') {
                    problem = "must not contain control characters, '\\' or ':'";
                }
            }
            for (String part : name.split("/", -1)) {
                if (problem == null && (part.isEmpty() || part.equals(".") || part.equals(".."))) {
                    problem = "must be a relative '/'-separated path without empty, '.' or '..' parts";
                }
            }
        }
        if (problem != null) {
            throw new IllegalArgumentException("invalid file name '" + RepoRef.printable(name) + "': " + problem);
        }
        return name;
    }

    /** {@code dir/filename} for a checked file name, which must also normalize to a path strictly inside {@code dir}. */
    private static Path inside(Path dir, String filename, RepoRef ref) throws HubException {
        Path p;
        try {
            p = dir.resolve(filename);
        } catch (InvalidPathException e) {
            throw new HubException(HubException.Reason.BAD_RESPONSE, 0, ref + ": file name '"
                    + RepoRef.printable(filename) + "' is not a valid path here", e);
        }
        Path d = dir.normalize();
        if (!p.normalize().startsWith(d) || p.normalize().equals(d)) {
            throw new HubException(HubException.Reason.BAD_RESPONSE, 0, ref + ": file name '"
                    + RepoRef.printable(filename) + "' leaves the cache directory " + dir, null);
        }
        return p;
    }

    /** Deletes a file if it is there, ignoring failure (a leftover is harmless and retried later). */
    static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (NoSuchFileException e) {
            // gone
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot delete {0}: {1}", p, e.toString());
        }
    }
}
