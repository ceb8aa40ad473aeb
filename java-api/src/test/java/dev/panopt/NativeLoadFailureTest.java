package dev.panopt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With a bad {@code -Dpanopt.library.path}, every public entry point that needs the native library
 * throws the same clear {@link UnsatisfiedLinkError}, on the first call and on every later one (in a
 * forked JVM, since loading is decided once per JVM).
 */
class NativeLoadFailureTest {
    @TempDir
    Path tmp;

    /** Calls the public entry points three times each; prints one line per outcome. */
    public static final class Probe {
        public static void main(String[] args) {
            Path fixture = Path.of(args[0]);
            List<ThrowingRunnable> calls = List.of(Backend::shared, Panopt::nativeVersion, Panopt::bestIsa,
                    Panopt::nativeLibraryPath, () -> Backend.create(BackendOptions.DEFAULT),
                    () -> OptForCausalLM.fromPretrained(fixture).close());
            for (int round = 0; round < 3; round++) {
                for (ThrowingRunnable r : calls) {
                    try {
                        r.run();
                        System.out.println("RESULT OK");
                    } catch (Throwable t) {
                        System.out.println("RESULT " + t.getClass().getName() + ": " + t.getMessage());
                    }
                }
            }
        }

        interface ThrowingRunnable {
            void run() throws Exception;
        }
    }

    @Test
    void everyCallGetsTheSameClearError() throws Exception {
        Path bad = tmp.resolve("no-such-dir");
        Path fixture = Path.of(System.getProperty("panopt.fixtures", "../conformance/fixtures"), "cases", "preln-tiny");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Dpanopt.library.path=" + bad, "-cp",
                System.getProperty("java.class.path"), Probe.class.getName(), fixture.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        List<String> lines = out.lines().filter(l -> l.startsWith("RESULT ")).toList();
        assertEquals(18, lines.size(), out);
        Set<String> distinct = new LinkedHashSet<>(lines);
        assertEquals(1, distinct.size(), out);
        assertEquals("RESULT java.lang.UnsatisfiedLinkError: Panopt's native library is unavailable: "
                + "-Dpanopt.library.path=" + bad + " names " + bad + ", which is not a file (give libpanopt.so or the"
                + " directory holding it)", distinct.iterator().next());
    }
}
