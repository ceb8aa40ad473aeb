package dev.panopt.bindings;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** Shared plumbing of the generated holder classes. */
final class Downcalls {
    private Downcalls() {}

    static MethodHandle handle(String name, FunctionDescriptor desc) {
        MemorySegment symbol = NativeLibrary.lookup().find(name).orElseThrow(() ->
                new UnsatisfiedLinkError("symbol " + name + " not found in " + NativeLibrary.path()
                        + " (library older than these bindings?)"));
        return Linker.nativeLinker().downcallHandle(symbol, desc);
    }

    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("unexpected exception from a downcall", t);
    }
}
