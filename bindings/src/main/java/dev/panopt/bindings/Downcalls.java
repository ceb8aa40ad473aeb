package dev.panopt.bindings;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Optional;

/** Shared plumbing of the generated holder classes. */
final class Downcalls {
    private Downcalls() {}

    /**
     * The downcall handle of {@code name}. Never throws: when the library cannot be loaded or lacks the
     * symbol, the handle throws a new {@link UnsatisfiedLinkError} saying so on every call, so the
     * holder's class initialiser succeeds and each use reports the same clear error.
     */
    static MethodHandle handle(String name, FunctionDescriptor desc) {
        Optional<MemorySegment> symbol;
        try {
            symbol = NativeLibrary.lookup().find(name);
        } catch (UnsatisfiedLinkError e) {
            return failing(desc, e.getMessage().replaceFirst("^Panopt's native library is unavailable: ", ""),
                    e.getCause());
        }
        if (symbol.isEmpty()) {
            return failing(desc, "symbol " + name + " not found in " + NativeLibrary.path()
                    + " (library older than these bindings?)", null);
        }
        return Linker.nativeLinker().downcallHandle(symbol.get(), desc);
    }

    /** A handle of {@code desc}'s type that throws {@code NativeLibrary.failure(problem, cause)}. */
    private static MethodHandle failing(FunctionDescriptor desc, String problem, Throwable cause) {
        MethodType type = desc.toMethodType();
        try {
            MethodHandle make = MethodHandles.lookup().findStatic(NativeLibrary.class, "failure",
                    MethodType.methodType(UnsatisfiedLinkError.class, String.class, Throwable.class));
            make = MethodHandles.insertArguments(make, 0, problem, cause);
            MethodHandle thrower = MethodHandles.throwException(type.returnType(), UnsatisfiedLinkError.class);
            MethodHandle h = MethodHandles.foldArguments(thrower, make);
            return MethodHandles.dropArguments(h, 0, type.parameterList());
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
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
