package dev.panopt.bindings;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * Typed entry points over the generated holders: strings out of {@code const char*}, the
 * mapping of {@code panopt_status} codes to exceptions, and the load-time check that the library
 * matches the generated constants and layouts ({@link PanoptH}). Thread-safe (stateless).
 */
public final class Native {
    private Native() {}

    /** The load and ABI check, done once; null when the library is usable, else what is wrong. */
    private static final class Abi {
        static final String PROBLEM;
        static final Throwable CAUSE;

        static {
            String problem = null;
            Throwable cause = null;
            try {
                problem = check();
            } catch (UnsatisfiedLinkError e) {
                problem = e.getMessage().replaceFirst("^Panopt's native library is unavailable: ", "");
                cause = e.getCause();
            } catch (RuntimeException | Error e) {
                problem = "checking libpanopt failed: " + e;
                cause = e;
            }
            PROBLEM = problem;
            CAUSE = cause;
        }

        private static String check() {
            int abi = panopt_abi_version.invoke();
            if (abi != PanoptH.ABI_VERSION) {
                return "libpanopt at " + NativeLibrary.path() + " has ABI version " + abi + ", these bindings need "
                        + PanoptH.ABI_VERSION;
            }
            // The layouts are generated from panopt.h; the library reports what it was built with.
            try (Arena arena = Arena.ofConfined()) {
                for (StructLayout layout : PanoptH.STRUCTS) {
                    String name = layout.name().orElseThrow();
                    long size = panopt_struct_size.invoke(arena.allocateFrom(name));
                    if (size != layout.byteSize()) {
                        return "libpanopt at " + NativeLibrary.path() + " has sizeof(" + name + ") = " + size
                                + ", these bindings were generated for " + layout.byteSize();
                    }
                }
            }
            return null;
        }
    }

    /**
     * Loads the library (once) and checks its ABI version and struct layouts.
     *
     * @throws UnsatisfiedLinkError if the library cannot be loaded or does not match these bindings;
     *     every call throws a new one with the same message
     */
    public static void ensureLoaded() {
        if (Abi.PROBLEM != null) {
            throw NativeLibrary.failure(Abi.PROBLEM, Abi.CAUSE);
        }
    }

    /**
     * Library version string.
     *
     * @return the version {@code panopt_version} reports
     * @throws UnsatisfiedLinkError if the library cannot be loaded or does not match these bindings
     */
    public static String version() {
        ensureLoaded();
        return cString(panopt_version.invoke());
    }

    /**
     * Last error message of the calling thread.
     *
     * @return the message of the thread's last failed call, or an empty string if none failed
     */
    public static String lastError() {
        return cString(panopt_last_error.invoke());
    }

    /**
     * Highest ISA level ({@code PanoptH.ISA_*}) this CPU and build support.
     *
     * @return a {@code PanoptH.ISA_*} code other than {@link PanoptH#ISA_AUTO}
     * @throws UnsatisfiedLinkError if the library cannot be loaded or does not match these bindings
     */
    public static int cpuIsa() {
        ensureLoaded();
        return panopt_cpu_isa.invoke();
    }

    /**
     * Name of an ISA level.
     *
     * @param isa a {@code PanoptH.ISA_*} code
     * @return "auto", "scalar", "avx2", "avx512", "avx512_vnni" or "amx"; {@code "isa#N"} for an unknown code N
     */
    public static String isaName(int isa) {
        return switch (isa) {
            case PanoptH.ISA_AUTO -> "auto";
            case PanoptH.ISA_SCALAR -> "scalar";
            case PanoptH.ISA_AVX2 -> "avx2";
            case PanoptH.ISA_AVX512 -> "avx512";
            case PanoptH.ISA_AVX512_VNNI -> "avx512_vnni";
            case PanoptH.ISA_AMX -> "amx";
            default -> "isa#" + isa;
        };
    }

    /**
     * Throws the exception matching a non-OK status, with the native message: invalid argument →
     * IllegalArgumentException; state or capacity → IllegalStateException; unsupported →
     * UnsupportedOperationException; out of memory → OutOfMemoryError; internal → IllegalStateException.
     *
     * @param status    the {@code panopt_status} a downcall returned
     * @param operation the call's name, which starts the exception's message
     * @throws IllegalArgumentException      for {@link PanoptH#ERR_INVALID_ARGUMENT}
     * @throws IllegalStateException         for {@link PanoptH#ERR_STATE}, {@link PanoptH#ERR_CAPACITY},
     *     {@link PanoptH#ERR_INTERNAL} or an unknown status
     * @throws UnsupportedOperationException for {@link PanoptH#ERR_UNSUPPORTED}
     * @throws OutOfMemoryError              for {@link PanoptH#ERR_OUT_OF_MEMORY}
     */
    public static void check(int status, String operation) {
        if (status == PanoptH.OK) {
            return;
        }
        String msg = operation + ": " + lastError();
        switch (status) {
            case PanoptH.ERR_INVALID_ARGUMENT -> throw new IllegalArgumentException(msg);
            case PanoptH.ERR_STATE, PanoptH.ERR_CAPACITY -> throw new IllegalStateException(msg);
            case PanoptH.ERR_UNSUPPORTED -> throw new UnsupportedOperationException(msg);
            case PanoptH.ERR_OUT_OF_MEMORY -> throw new OutOfMemoryError("native memory: " + msg);
            case PanoptH.ERR_INTERNAL -> throw new IllegalStateException("panopt internal error in " + msg);
            default -> throw new IllegalStateException(msg + " (unknown status " + status + ")");
        }
    }

    private static String cString(MemorySegment p) {
        if (p.equals(MemorySegment.NULL)) {
            return "";
        }
        // The library returns NUL-terminated static or thread-local strings; bound the read.
        return p.reinterpret(64 * 1024).getString(0);
    }
}
