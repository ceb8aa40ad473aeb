package dev.panopt.bindings;

import java.lang.foreign.MemorySegment;

/**
 * Typed entry points over the generated holders: strings out of {@code const char*}, and the
 * mapping of {@code panopt_status} codes to exceptions. Thread-safe (stateless).
 */
public final class Native {
    private Native() {}

    /** panopt.h's PANOPT_ABI_VERSION these bindings were written for. */
    public static final int ABI_VERSION = 1;

    public static final int OK = 0;
    public static final int ERR_INVALID_ARGUMENT = 1;
    public static final int ERR_OUT_OF_MEMORY = 2;
    public static final int ERR_STATE = 3;
    public static final int ERR_CAPACITY = 4;
    public static final int ERR_UNSUPPORTED = 5;
    public static final int ERR_INTERNAL = 6;

    public static final int DTYPE_F32 = 0;
    public static final int DTYPE_F16 = 1;
    public static final int DTYPE_BF16 = 2;

    public static final int ISA_AUTO = 0;
    public static final int ISA_SCALAR = 1;
    public static final int ISA_AVX2 = 2;
    public static final int ISA_AVX512 = 3;

    private static final class Abi {
        static {
            int abi = panopt_abi_version.invoke();
            if (abi != ABI_VERSION) {
                throw new UnsatisfiedLinkError("libpanopt at " + NativeLibrary.path() + " has ABI version " + abi
                        + ", these bindings need " + ABI_VERSION);
            }
        }

        static void ensure() {}
    }

    /** Loads the library (once) and checks its ABI version. */
    public static void ensureLoaded() {
        Abi.ensure();
    }

    /** Library version string. */
    public static String version() {
        ensureLoaded();
        return cString(panopt_version.invoke());
    }

    /** Last error message of the calling thread. */
    public static String lastError() {
        return cString(panopt_last_error.invoke());
    }

    /** Highest ISA level ({@code ISA_*}) this CPU and build support. */
    public static int cpuIsa() {
        ensureLoaded();
        return panopt_cpu_isa.invoke();
    }

    /** Name of an ISA level. */
    public static String isaName(int isa) {
        return switch (isa) {
            case ISA_AUTO -> "auto";
            case ISA_SCALAR -> "scalar";
            case ISA_AVX2 -> "avx2";
            case ISA_AVX512 -> "avx512";
            default -> "isa#" + isa;
        };
    }

    /**
     * Throws the exception matching a non-OK status, with the native message: invalid argument →
     * IllegalArgumentException; state or capacity → IllegalStateException; unsupported →
     * UnsupportedOperationException; out of memory → OutOfMemoryError; internal → IllegalStateException.
     */
    public static void check(int status, String operation) {
        if (status == OK) {
            return;
        }
        String msg = operation + ": " + lastError();
        switch (status) {
            case ERR_INVALID_ARGUMENT -> throw new IllegalArgumentException(msg);
            case ERR_STATE, ERR_CAPACITY -> throw new IllegalStateException(msg);
            case ERR_UNSUPPORTED -> throw new UnsupportedOperationException(msg);
            case ERR_OUT_OF_MEMORY -> throw new OutOfMemoryError("native memory: " + msg);
            case ERR_INTERNAL -> throw new IllegalStateException("panopt internal error in " + msg);
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
