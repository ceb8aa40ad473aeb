package dev.panopt.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The machine's ceilings, measured by {@code libpanopt_probe.so} (native/bench/probe.cpp + peak.cpp,
 * built by the native module's CMake into native/target/cmake/) through FFM. Its path comes from the
 * system property {@code panopt.probe.library}.
 */
public final class Probe {
    private final MethodHandle peak;
    private final MethodHandle read;
    private final MethodHandle peakInt8;
    private final MethodHandle peakBf16;
    private final MethodHandle handoff;

    public Probe(Path library) {
        if (!Files.isRegularFile(library)) {
            throw new IllegalStateException("probe library " + library + " not found: build with ./mvnw install -DskipTests "
                    + "(it lands in native/target/cmake/) or set -Dpanopt.probe.library");
        }
        SymbolLookup l = SymbolLookup.libraryLookup(library, Arena.global());
        Linker linker = Linker.nativeLinker();
        peak = linker.downcallHandle(l.find("panopt_probe_peak_gflops").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_DOUBLE, ValueLayout.JAVA_INT));
        peakInt8 = linker.downcallHandle(l.find("panopt_probe_peak_int8_gops").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_DOUBLE, ValueLayout.JAVA_INT));
        peakBf16 = linker.downcallHandle(l.find("panopt_probe_peak_bf16_gflops").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_DOUBLE, ValueLayout.JAVA_INT));
        read = linker.downcallHandle(l.find("panopt_probe_read_gbps").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_DOUBLE, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
        handoff = linker.downcallHandle(l.find("panopt_probe_handoff_ns").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_DOUBLE, ValueLayout.JAVA_INT));
    }

    public static Probe fromProperty() {
        String p = System.getProperty("panopt.probe.library");
        if (p == null || p.isBlank()) {
            throw new IllegalStateException("set -Dpanopt.probe.library=native/target/cmake/libpanopt_probe.so");
        }
        return new Probe(Path.of(p));
    }

    /** Peak f32 FMA GFLOP/s of {@code threads} threads. */
    public double peakGflops(int threads) {
        try {
            return (double) peak.invokeExact(threads);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Peak int8 dot-product GOP/s (2 ops per int8 product; AMX where usable, else VNNI, else AVX2) of {@code threads} threads. */
    public double peakInt8Gops(int threads) {
        try {
            return (double) peakInt8.invokeExact(threads);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Peak bf16 dot-product GFLOP/s (AVX512_BF16's vdpbf16ps; 0 without it) of {@code threads} threads. */
    public double peakBf16Gflops(int threads) {
        try {
            return (double) peakBf16.invokeExact(threads);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Read bandwidth in GB/s (1e9 B/s) over a buffer of {@code bytes}, best of {@code reps}. */
    public double readGbps(int threads, long bytes, int reps) {
        try {
            return (double) read.invokeExact(threads, bytes, reps);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * One-way latency (ns) of a cache line handed between two threads, median of {@code rounds} batches of
     * 1000 round trips: where the OS has placed two threads (sharing an L3 or not) shows in it.
     */
    public double handoffNs(int rounds) {
        try {
            return (double) handoff.invokeExact(rounds);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
