package dev.panopt;

import dev.panopt.bindings.Native;
import dev.panopt.bindings.PanoptH;
import dev.panopt.bindings.panopt_backend_create;
import dev.panopt.bindings.panopt_backend_free;
import dev.panopt.bindings.panopt_backend_get_info;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/**
 * Where models compute: the native CPU backend, i.e. one set of kernels (an {@link Isa}) and one
 * pool of worker threads that every session of every model on it shares. Concurrent sessions
 * queue their parallel regions on that pool, so the number of native threads stays at
 * {@link #threads()} - 1 workers however many sessions and Java threads there are.
 *
 * <p>Models load onto {@link #shared()} unless {@link LoadOptions.Builder#backend(Backend)} names
 * another. Ownership: a backend you {@link #create} is yours to close, after the models on it;
 * closing it while models are open throws. The shared backend lives as long as the JVM.
 *
 * <p>Thread-safety: thread-safe; one backend serves any number of threads.
 */
public final class Backend implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Backend.class.getName());

    private final BackendOptions options;
    private final int threads;
    private final Isa isa;
    private final boolean shared;
    private final State state;

    private Backend(BackendOptions options, MemorySegment handle, int threads, Isa isa, boolean shared) {
        this.options = options;
        this.threads = threads;
        this.isa = isa;
        this.shared = shared;
        this.state = new State(handle);
        if (!shared) {
            NativeMemory.reserve(NativeMemory.Kind.BACKEND, 0);
            state.cleanable = NativeMemory.CLEANER.register(this, state);
        }
    }

    /**
     * The native pool and the count of models on it; the cleaning action of a backend that becomes
     * unreachable unclosed (models refer to their backend, so by then none is left open).
     */
    private static final class State implements Runnable {
        private MemorySegment handle; // guarded by this
        private int openModels;       // guarded by this
        private java.lang.ref.Cleaner.Cleanable cleanable;

        State(MemorySegment handle) {
            this.handle = handle;
        }

        @Override
        public synchronized void run() {
            if (handle == null) {
                return;
            }
            if (openModels > 0) { // cannot happen: each open model's state refers to the backend
                LOG.log(System.Logger.Level.WARNING, "backend unreachable with {0} model(s) open; not freed",
                        openModels);
                return;
            }
            panopt_backend_free.invoke(handle);
            handle = null;
            NativeMemory.released(NativeMemory.Kind.BACKEND, 0, true);
        }
    }

    /** Made on first use; not in a holder class, whose failed initialiser would fail every later use differently. */
    private static volatile Backend sharedInstance;

    /**
     * The process-wide CPU backend models use by default: all CPUs (or {@code -Dpanopt.threads=N})
     * and the best ISA, created on first use. {@link #close()} on it does nothing.
     *
     * @return the shared backend
     * @throws UnsatisfiedLinkError if the native library cannot be loaded (on every call, same message)
     */
    public static Backend shared() {
        Backend b = sharedInstance;
        if (b == null) {
            synchronized (Backend.class) {
                b = sharedInstance;
                if (b == null) {
                    b = make(BackendOptions.DEFAULT, true);
                    sharedInstance = b;
                }
            }
        }
        return b;
    }

    /**
     * A new CPU backend with its own worker pool; the caller closes it.
     *
     * @param options threads and ISA
     * @return the backend
     * @throws UnsupportedOperationException if the CPU lacks the requested ISA
     */
    public static Backend create(BackendOptions options) {
        return make(java.util.Objects.requireNonNull(options, "options"), false);
    }

    private static Backend make(BackendOptions options, boolean shared) {
        Native.ensureLoaded();
        try (Arena arena = Arena.ofConfined()) {
            StructLayout L = PanoptH.BACKEND_OPTIONS;
            MemorySegment o = arena.allocate(L);
            o.set(ValueLayout.JAVA_INT, PanoptH.offset(L, "struct_size"), (int) L.byteSize());
            o.set(ValueLayout.JAVA_INT, PanoptH.offset(L, "kind"), PanoptH.BACKEND_CPU);
            o.set(ValueLayout.JAVA_INT, PanoptH.offset(L, "n_threads"), options.threads());
            o.set(ValueLayout.JAVA_INT, PanoptH.offset(L, "isa"), options.isa().code);
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Native.check(panopt_backend_create.invoke(o, out), "panopt_backend_create");
            MemorySegment h = out.get(ValueLayout.ADDRESS, 0);
            StructLayout I = PanoptH.BACKEND_INFO;
            MemorySegment info = arena.allocate(I);
            info.set(ValueLayout.JAVA_INT, PanoptH.offset(I, "struct_size"), (int) I.byteSize());
            Native.check(panopt_backend_get_info.invoke(h, info), "panopt_backend_get_info");
            int n = info.get(ValueLayout.JAVA_INT, PanoptH.offset(I, "n_threads"));
            Isa isa = Isa.ofCode(info.get(ValueLayout.JAVA_INT, PanoptH.offset(I, "isa")));
            LOG.log(System.Logger.Level.DEBUG, "CPU backend: {0} threads, {1}", n, isa);
            return new Backend(options, h, n, isa, shared);
        }
    }

    /** {@return the options this backend was made with} */
    public BackendOptions options() {
        return options;
    }

    /** {@return the threads per parallel region (workers plus the calling thread), as resolved} */
    public int threads() {
        return threads;
    }

    /** {@return the kernel instruction set in use (never {@link Isa#AUTO})} */
    public Isa isa() {
        return isa;
    }

    /** Registers a model about to be created on this backend and returns the native handle. */
    MemorySegment acquire() {
        synchronized (state) {
            if (state.handle == null) {
                throw new IllegalStateException("backend is closed");
            }
            state.openModels++;
            return state.handle;
        }
    }

    /** A model on this backend was freed. */
    void releaseModel() {
        synchronized (state) {
            state.openModels--;
        }
    }

    /**
     * Frees the worker pool. Does nothing on the {@link #shared()} backend or when already closed.
     *
     * @throws IllegalStateException if models on this backend are still open
     */
    @Override
    public void close() {
        if (shared) {
            return;
        }
        synchronized (state) {
            if (state.handle == null) {
                return;
            }
            if (state.openModels > 0) {
                throw new IllegalStateException(state.openModels
                        + " model(s) on this backend are still open; close them first");
            }
            Native.check(panopt_backend_free.invoke(state.handle), "panopt_backend_free");
            state.handle = null;
            NativeMemory.released(NativeMemory.Kind.BACKEND, 0, false);
        }
        state.cleanable.clean(); // unregisters (the action finds nothing left to free)
    }

    @Override
    public String toString() {
        return "Backend[cpu, " + threads + " threads, " + isa + (shared ? ", shared" : "") + "]";
    }
}
