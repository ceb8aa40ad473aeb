package dev.panopt.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A library that cannot be loaded gives the same clear {@link UnsatisfiedLinkError} on every call —
 * never ExceptionInInitializerError first and NoClassDefFoundError after. Each case runs in a forked JVM
 * ({@link Probe}), since loading is decided once per JVM.
 */
class LoadFailureTest {
    @TempDir
    Path tmp;

    /** Calls every kind of entry point three times and prints one line per outcome. */
    public static final class Probe {
        public static void main(String[] args) {
            List<Runnable> calls = List.of(Native::ensureLoaded, Native::version, Native::cpuIsa,
                    () -> panopt_abi_version.invoke(), () -> panopt_forward.invoke(MemorySegment.NULL, MemorySegment.NULL), NativeLibrary::path);
            for (int round = 0; round < 3; round++) {
                for (Runnable r : calls) {
                    try {
                        r.run();
                        System.out.println("RESULT OK");
                    } catch (Throwable t) {
                        System.out.println("RESULT " + t.getClass().getName() + ": " + t.getMessage());
                    }
                }
            }
        }
    }

    private List<String> probe(Path classes, String... props) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.addAll(List.of(props));
        cmd.add("-cp");
        cmd.add(classes + java.io.File.pathSeparator
                + Path.of(Probe.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
        cmd.add(Probe.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        // The JVM may add its own warnings (e.g. about a junk file it tried to load): keep the results.
        return out.lines().filter(l -> l.startsWith("RESULT ")).map(l -> l.substring("RESULT ".length())).toList();
    }

    /** The bindings' classes (and their bundled library) as the build produced them. */
    private static Path classes() throws Exception {
        return Path.of(NativeLibrary.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    private static void assertSameClearError(List<String> lines, String expected) {
        assertEquals(18, lines.size(), String.join("\n", lines));
        Set<String> distinct = new LinkedHashSet<>(lines);
        assertEquals(1, distinct.size(), "every call must fail the same way:\n" + String.join("\n", lines));
        String line = distinct.iterator().next();
        assertTrue(line.startsWith("java.lang.UnsatisfiedLinkError: Panopt's native library is unavailable: "), line);
        assertTrue(line.contains(expected), line);
    }

    @Test
    void libraryPathThatIsNoFile() throws Exception {
        Path missing = tmp.resolve("nowhere/libpanopt.so");
        assertSameClearError(probe(classes(), "-Dpanopt.library.path=" + missing),
                "-Dpanopt.library.path=" + missing + " names " + missing + ", which is not a file");
    }

    @Test
    void libraryPathThatIsNoLibrary() throws Exception {
        Path junk = Files.writeString(tmp.resolve("libpanopt.so"), "not an ELF file");
        assertSameClearError(probe(classes(), "-Dpanopt.library.path=" + tmp), "cannot load " + junk);
    }

    @Test
    void unwritableCacheDirectory() throws Exception {
        // A path below a regular file can never be created, whoever runs the test (root included).
        Path file = Files.writeString(tmp.resolve("a-file"), "");
        assertSameClearError(probe(classes(), "-Dpanopt.cache.dir=" + file.resolve("cache")),
                "set -Dpanopt.cache.dir to a writable directory");
    }

    @Test
    void jarWithoutTheNativeLibrary() throws Exception {
        Path copy = tmp.resolve("classes");
        Path from = classes();
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : files.filter(Files::isRegularFile).filter(f -> f.toString().endsWith(".class")).toList()) {
                Path to = copy.resolve(from.relativize(f).toString());
                Files.createDirectories(to.getParent());
                Files.copy(f, to, StandardCopyOption.REPLACE_EXISTING);
            }
        }
        assertSameClearError(probe(copy, "-Dpanopt.cache.dir=" + tmp.resolve("cache")),
                "this Panopt jar carries no native library for " + NativeLibrary.platform());
    }

    @Test
    void aWorkingLibraryStillLoads() throws Exception {
        List<String> lines = probe(classes(), "-Dpanopt.cache.dir=" + tmp.resolve("cache"));
        // panopt_forward(NULL, NULL) returns an error status (not an exception): every line is OK.
        assertEquals(Set.of("OK"), new LinkedHashSet<>(lines), String.join("\n", lines));
    }
}
