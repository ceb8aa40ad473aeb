package dev.panopt.spark;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;

/**
 * Where an executor reads a checkpoint (or tokenizer) directory from. A local path ({@code /dir},
 * {@code file:/dir}) is read in place on each node's own disk, as are all paths with
 * {@code modelCopy=never}; any other Hadoop path (HDFS, S3 through {@code s3a://}, ...) and every
 * path with {@code modelCopy=always} is copied once per executor to its local disk (the
 * directory of files Spark ships to it, which Spark deletes with the executor) and read from there.
 *
 * <p>Only the files Panopt reads are copied: JSON (config, indexes, tokenizer settings), text
 * (merges), {@code .safetensors} and PyTorch's {@code .bin}; a Hugging Face download's Flax,
 * TensorFlow or ONNX weights stay behind.
 */
final class ModelFiles {
    private static final ConcurrentHashMap<String, Object> COPY_LOCKS = new ConcurrentHashMap<>();

    private ModelFiles() {}

    /**
     * A directory on this machine's disk.
     *
     * @param directory   the local directory
     * @param copiedBytes bytes copied to it by this call (0 if read in place or copied earlier)
     */
    record Local(Path directory, long copiedBytes) {}

    /** Whether {@code location} is read in place (no copy) under {@code mode}. */
    static boolean isReadInPlace(String location, TaskOptions.ModelCopy mode) {
        return switch (mode) {
            case NEVER -> true;
            case ALWAYS -> false;
            case AUTO -> {
                String scheme = new org.apache.hadoop.fs.Path(location).toUri().getScheme();
                yield scheme == null || scheme.equals("file");
            }
        };
    }

    /** Resolves {@code location} to a local directory, copying it first unless it is read in place. */
    static Local localize(String location, TaskOptions.ModelCopy mode, Configuration conf) throws IOException {
        if (isReadInPlace(location, mode)) {
            URI uri = new org.apache.hadoop.fs.Path(location).toUri();
            return new Local(Path.of(uri.getScheme() == null ? location : uri.getPath()), 0);
        }
        Path target = copyRoot().resolve(digest(location));
        synchronized (COPY_LOCKS.computeIfAbsent(target.toString(), k -> new Object())) {
            if (Files.isDirectory(target)) {
                return new Local(target, 0);
            }
            Path tmp = Files.createTempDirectory(target.getParent(), target.getFileName() + ".tmp-");
            try {
                long bytes = copyDirectory(location, conf, tmp);
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, target);
                }
                return new Local(target, bytes);
            } finally {
                deleteRecursively(tmp);
            }
        }
    }

    /** Copies the files Panopt reads from a Hadoop directory into {@code into}; returns the bytes copied. */
    private static long copyDirectory(String location, Configuration conf, Path into) throws IOException {
        org.apache.hadoop.fs.Path dir = new org.apache.hadoop.fs.Path(location);
        FileSystem fs = dir.getFileSystem(conf);
        FileStatus[] files;
        try {
            files = fs.listStatus(dir);
        } catch (java.io.FileNotFoundException e) {
            throw new java.io.FileNotFoundException("no directory " + location + " (" + e.getMessage() + ")");
        }
        long bytes = 0;
        for (FileStatus f : files) {
            String name = f.getPath().getName();
            if (!f.isFile() || !isReadByPanopt(name)) {
                continue;
            }
            try (InputStream in = fs.open(f.getPath())) {
                bytes += Files.copy(in, into.resolve(name));
            }
        }
        return bytes;
    }

    static boolean isReadByPanopt(String fileName) {
        String n = fileName.toLowerCase(Locale.ROOT);
        return n.endsWith(".json") || n.endsWith(".txt") || n.endsWith(".safetensors") || n.endsWith(".bin");
    }

    /** The executor's directory for shipped files (its work directory), or a temporary one outside Spark. */
    private static Path copyRoot() throws IOException {
        Path root = SparkEnv.get() != null ? Path.of(SparkFiles.getRootDirectory()) : Path.of(System.getProperty("java.io.tmpdir"));
        return Files.createDirectories(root.toAbsolutePath().resolve("panopt-models"));
    }

    private static String digest(String location) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(location.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JDK has SHA-256", e);
        }
    }

    private static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }
}
