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
 * Thread-safe: initialisation happens in a class initialiser.
 */
public final class NativeLibrary {
    private static final System.Logger LOG = System.getLogger(NativeLibrary.class.getName());
    private static final String LIB_NAME = "libpanopt.so";

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

    /** The loaded library's symbols (loads it on first use). */
    public static SymbolLookup lookup() {
        return Holder.LOOKUP;
    }

    /** The file the library was loaded from. */
    public static Path path() {
        return Holder.PATH;
    }

    private static final class Holder {
        static final Path PATH = locate();
        static final SymbolLookup LOOKUP = SymbolLookup.libraryLookup(PATH, Arena.global())
                .or(Linker.nativeLinker().defaultLookup());

        static {
            LOG.log(System.Logger.Level.DEBUG, "loaded {0}", PATH);
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
                throw new UnsatisfiedLinkError("panopt.library.path points to " + p + ", which is not a file");
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
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, LIB_NAME, ".tmp");
            Files.write(tmp, bytes);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            LOG.log(System.Logger.Level.DEBUG, "extracted native library to {0}", target);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract the native library to " + dir
                    + " (set -Dpanopt.cache.dir to a writable directory)", e);
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
