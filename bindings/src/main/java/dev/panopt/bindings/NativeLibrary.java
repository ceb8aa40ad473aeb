package dev.panopt.bindings;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Finds and loads libpanopt once per JVM.
 *
 * <p>Order: the system property {@code panopt.library.path} (the library file, or a directory
 * holding {@code libpanopt.so}); otherwise the copy bundled in this jar for the running platform,
 * extracted once into a content-addressed cache directory ({@code panopt.cache.dir}, else
 * {@code $XDG_CACHE_HOME/panopt}, else {@code ~/.cache/panopt}) so concurrent JVMs and upgrades
 * never see a half-written or stale file. The library stays loaded for the life of the JVM.
 *
 * <p>Failures (a bad {@code panopt.library.path}, an unwritable cache directory, no library for this
 * platform, a file that is not a loadable library) are decided once and then reported by every call
 * as an {@link UnsatisfiedLinkError} with the same message, never as ExceptionInInitializerError or
 * NoClassDefFoundError. Thread-safe: the attempt happens in a class initialiser that never throws.
 */
public final class NativeLibrary {
    private static final System.Logger LOG = System.getLogger(NativeLibrary.class.getName());
    private static final String LIB_NAME = "libpanopt.so";
    private static final String CUDA_LIB_NAME = "libpanopt_cuda.so";

    private NativeLibrary() {}

    /**
     * Platform folder name used inside the jar, e.g. {@code linux-x86_64}.
     *
     * @return {@code <os>-<arch>} from the {@code os.name} and {@code os.arch} system properties
     */
    public static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String o = os.contains("linux") ? "linux" : os.contains("mac") ? "macos" : os.contains("win") ? "windows" : os;
        String a = switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> arch;
        };
        return o + "-" + a;
    }

    /**
     * The loaded library's symbols (loads it on first use).
     *
     * @return a lookup of libpanopt's symbols, falling back to the C library's
     * @throws UnsatisfiedLinkError if the library cannot be found, extracted or loaded: on this call
     *     and on every later one, with the same message (the first failure is its cause)
     */
    public static SymbolLookup lookup() {
        return Holder.LOADED.get().lookup();
    }

    /**
     * The file the library was loaded from.
     *
     * @return the library file (for the bundled library, its extracted copy in the cache directory)
     * @throws UnsatisfiedLinkError as {@link #lookup()}
     */
    public static Path path() {
        return Holder.LOADED.get().path();
    }

    /**
     * Puts the CUDA backend's library, {@code libpanopt_cuda.so}, where libpanopt loads it from when
     * a CUDA backend is created: beside libpanopt. For the bundled library that means extracting the
     * jar's copy into the same cache directory (once, on the first request: CPU-only use never
     * touches it); a library loaded from {@code panopt.library.path} takes the one beside it, and
     * libpanopt itself reports its absence.
     *
     * @return null when the library is in place (or is libpanopt's to find), else why it cannot be
     *     (this jar carries none, or it cannot be extracted)
     * @throws UnsatisfiedLinkError as {@link #lookup()}
     */
    public static String prepareCudaLibrary() {
        Outcome o = Holder.LOADED.get();
        if (!o.bundled()) {
            return null;
        }
        synchronized (NativeLibrary.class) {
            String resource = "native/" + platform() + "/" + CUDA_LIB_NAME;
            Path target = o.path().resolveSibling(CUDA_LIB_NAME);
            try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
                if (in == null) {
                    return "this Panopt build has no CUDA backend: its jar carries no " + resource
                            + " (the CUDA backend is built where nvcc is found)";
                }
                byte[] bytes = in.readAllBytes();
                // the directory is named by libpanopt's hash; the CUDA library beside it is compared whole
                if (Files.isRegularFile(target) && Files.size(target) == bytes.length
                        && java.util.Arrays.equals(Files.readAllBytes(target), bytes)) {
                    return null;
                }
                write(target, bytes);
                LOG.log(System.Logger.Level.DEBUG, "extracted the CUDA backend to {0}", target);
                return null;
            } catch (IOException | SecurityException e) {
                return "cannot extract the CUDA backend to " + target + " (" + e
                        + "); set -Dpanopt.cache.dir to a writable directory";
            }
        }
    }

    /** The outcome of loading, computed once; a failure is kept and reported afresh on every use. */
    record Outcome(Path path, boolean bundled, SymbolLookup lookup, String problem, Throwable cause) {
        Outcome get() {
            if (problem != null) {
                throw failure(problem, cause);
            }
            return this;
        }
    }

    /**
     * A new error for a load failure. Each call gets its own instance (a class initialiser must not
     * throw: the JVM would report ExceptionInInitializerError once and NoClassDefFoundError after).
     */
    static UnsatisfiedLinkError failure(String problem, Throwable cause) {
        UnsatisfiedLinkError e = new UnsatisfiedLinkError("Panopt's native library is unavailable: " + problem);
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }

    private static final class Holder {
        static final Outcome LOADED = load();
    }

    private static Outcome load() {
        Path path;
        try {
            path = locate();
        } catch (UnsatisfiedLinkError e) {
            return new Outcome(null, false, null, e.getMessage(), null);
        } catch (RuntimeException | Error e) {
            return new Outcome(null, false, null, String.valueOf(e.getMessage()), e);
        }
        try {
            SymbolLookup lookup = SymbolLookup.libraryLookup(path, Arena.global())
                    .or(Linker.nativeLinker().defaultLookup());
            LOG.log(System.Logger.Level.DEBUG, "loaded {0}", path);
            String explicit = System.getProperty("panopt.library.path");
            return new Outcome(path, explicit == null || explicit.isBlank(), lookup, null, null);
        } catch (RuntimeException | Error e) {
            return new Outcome(null, false, null, "cannot load " + path + " (" + e.getMessage() + ")"
                    + (System.getProperty("panopt.library.path") != null ? "; check -Dpanopt.library.path"
                            : "; set -Dpanopt.library.path to a libpanopt.so built for this platform"), e);
        }
    }

    private static Path locate() {
        String explicit = System.getProperty("panopt.library.path");
        if (explicit != null && !explicit.isBlank()) {
            Path p = Path.of(explicit);
            if (Files.isDirectory(p)) {
                p = p.resolve(LIB_NAME);
            }
            if (!Files.isRegularFile(p)) {
                throw new UnsatisfiedLinkError("-Dpanopt.library.path=" + explicit + " names " + p
                        + ", which is not a file (give libpanopt.so or the directory holding it)");
            }
            return p.toAbsolutePath();
        }
        String resource = "native/" + platform() + "/" + LIB_NAME;
        byte[] bytes;
        try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new UnsatisfiedLinkError("this Panopt jar carries no native library for " + platform()
                        + " (looked for " + resource + "); build it from source or set -Dpanopt.library.path");
            }
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read bundled " + resource, e);
        }
        return extract(bytes);
    }

    private static Path extract(byte[] bytes) {
        String hash;
        try {
            hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        Path dir = cacheRoot().resolve("lib").resolve(hash);
        Path target = dir.resolve(LIB_NAME);
        try {
            if (Files.isRegularFile(target) && Files.size(target) == bytes.length) {
                return target;
            }
            write(target, bytes);
            LOG.log(System.Logger.Level.DEBUG, "extracted native library to {0}", target);
            return target;
        } catch (IOException | SecurityException e) {
            throw new UncheckedIOException("cannot extract the native library to " + dir + " (" + e
                    + "); set -Dpanopt.cache.dir to a writable directory", e instanceof IOException io ? io
                    : new IOException(e));
        }
    }

    /** Writes a file whole or not at all (a temporary file moved into place), for concurrent JVMs. */
    private static void write(Path target, byte[] bytes) throws IOException {
        Path dir = target.getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, target.getFileName().toString(), ".tmp");
        Files.write(tmp, bytes);
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static Path cacheRoot() {
        String prop = System.getProperty("panopt.cache.dir");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "panopt");
        }
        return Path.of(System.getProperty("user.home"), ".cache", "panopt");
    }
}
