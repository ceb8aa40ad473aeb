package dev.panopt;

import dev.panopt.bindings.Native;
import dev.panopt.bindings.NativeLibrary;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Facts about the loaded native library. Thread-safe. */
public final class Panopt {
    private Panopt() {}

    /**
     * Version string of libpanopt.
     *
     * @return the version the library reports
     * @throws UnsatisfiedLinkError if the library cannot be loaded or does not match these bindings
     */
    public static String nativeVersion() {
        return Native.version();
    }

    /**
     * libpanopt's ABI version: one trivial downcall, which also makes it the probe for the cost
     * of crossing into native code.
     *
     * @return the ABI version the loaded library reports
     * @throws UnsatisfiedLinkError if the library cannot be loaded
     */
    public static int nativeAbiVersion() {
        return dev.panopt.bindings.panopt_abi_version.invoke();
    }

    /**
     * Where libpanopt was loaded from.
     *
     * @return the library file
     * @throws UnsatisfiedLinkError if the library cannot be loaded or does not match these bindings
     */
    public static Path nativeLibraryPath() {
        Native.ensureLoaded();
        return NativeLibrary.path();
    }

    /**
     * The best kernel instruction set of this CPU and build.
     *
     * @return a concrete level, never {@link Isa#AUTO}
     * @throws UnsatisfiedLinkError if the library cannot be loaded or does not match these bindings
     */
    public static Isa bestIsa() {
        return Isa.ofCode(Native.cpuIsa());
    }

    /**
     * Every concrete level this machine can run, slowest first (always includes SCALAR).
     *
     * @return the levels, without {@link Isa#AUTO}
     * @throws UnsatisfiedLinkError if the library cannot be loaded or does not match these bindings
     */
    public static List<Isa> availableIsas() {
        Isa best = bestIsa();
        List<Isa> out = new ArrayList<>();
        for (Isa i : Isa.values()) {
            if (i != Isa.AUTO && i.runsOn(best)) {
                out.add(i);
            }
        }
        return List.copyOf(out);
    }
}
