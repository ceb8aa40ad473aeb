package dev.panopt;

import dev.panopt.bindings.Native;
import dev.panopt.bindings.NativeLibrary;
import dev.panopt.bindings.PanoptH;
import dev.panopt.bindings.panopt_backend_create;
import dev.panopt.bindings.panopt_backend_free;
import dev.panopt.bindings.panopt_backend_get_info;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.Map;

/**
 * Where models compute: a {@link Device}. On the CPU, one set of kernels (an {@link Isa}) and one
 * pool of worker threads that every session of every model on it shares. Concurrent sessions
 * queue their parallel regions on that pool, so the number of native threads stays at
 * {@link #threads()} - 1 workers however many sessions and Java threads there are. On a CUDA
 * device, an NVIDIA GPU: a model's weights are copied to device memory when it is loaded (and stay
 * there until it is closed), each session keeps its key/value cache on the device, a decoding step
 * is replayed as a captured CUDA graph, and outputs come back to host memory at the end of each
 * forward call.
 *
 * <p>Models load onto {@link #shared()} unless {@link LoadOptions.Builder#backend(Backend)} or
 * {@link LoadOptions.Builder#device(Device)} names another. Ownership: a backend you {@link #create}
 * is yours to close, after the models on it; closing it while models are open throws. The shared
 * backends ({@link #shared()}, {@link #shared(Device)}) live as long as the JVM.
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
    /** The shared backends of CUDA devices, made on first use (a failure is retried on the next). */
    private static final Map<Device, Backend> SHARED_DEVICES = new HashMap<>(); // guarded by Backend.class

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
     * The process-wide backend of a device, created on first use: {@link #shared()} for the CPU; for
     * a CUDA device, one backend per device that every model loaded with
     * {@link LoadOptions.Builder#device(Device)} shares. {@link #close()} on it does nothing.
     *
     * @param device the device
     * @return the shared backend of that device
     * @throws UnsupportedOperationException if the device cannot be used here (no CUDA backend in this
     *     build, no NVIDIA driver, no such GPU, or one too old): on every call, naming what is missing
     */
    public static Backend shared(Device device) {
        java.util.Objects.requireNonNull(device, "device");
        if (device.kind() == Device.Kind.CPU) {
            return shared();
        }
        synchronized (Backend.class) {
            Backend b = SHARED_DEVICES.get(device);
            if (b == null) {
                b = make(BackendOptions.builder().device(device).build(), true);
                SHARED_DEVICES.put(device, b);
            }
            return b;
        }
    }

    /**
     * A new backend on the options' device (a CPU backend has its own worker pool); the caller closes it.
     *
     * @param options device, and for the CPU threads and ISA
     * @return the backend
     * @throws UnsupportedOperationException if the CPU lacks the requested ISA, or the CUDA device
     *     cannot be used here (no CUDA backend in this build, no NVIDIA driver, no such GPU, or one
     *     too old; the message names which)
     */
    public static Backend create(BackendOptions options) {
        return make(java.util.Objects.requireNonNull(options, "options"), false);
    }

    private static Backend make(BackendOptions options, boolean shared) {
        Native.ensureLoaded();
        boolean cuda = options.device().kind() == Device.Kind.CUDA;
        if (cuda) {
            String problem = NativeLibrary.prepareCudaLibrary(); // the jar's copy beside libpanopt
            if (problem != null) {
                throw new UnsupportedOperationException("cannot use " + options.device() + ": " + problem);
            }
        }
        try (Arena arena = Arena.ofConfined()) {
            StructLayout L = PanoptH.BACKEND_OPTIONS;
            MemorySegment o = arena.allocate(L);
            o.set(ValueLayout.JAVA_INT, PanoptH.offset(L, "struct_size"), (int) L.byteSize());
            o.set(ValueLayout.JAVA_INT, PanoptH.offset(L, "kind"), cuda ? PanoptH.BACKEND_CUDA : PanoptH.BACKEND_CPU);
            o.set(ValueLayout.JAVA_INT, PanoptH.offset(L, "n_threads"), options.threads());
            o.set(ValueLayout.JAVA_INT, PanoptH.offset(L, "isa"), options.isa().code);
            o.set(ValueLayout.JAVA_INT, PanoptH.offset(L, "device"), options.device().index());
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            if (cuda) {
                int status = panopt_backend_create.invoke(o, out);
                if (status == PanoptH.ERR_UNSUPPORTED) { // what is missing, said as the library says it
                    throw new UnsupportedOperationException("cannot use " + options.device() + ": " + Native.lastError());
                }
                Native.check(status, "panopt_backend_create");
            } else {
                Native.check(panopt_backend_create.invoke(o, out), "panopt_backend_create");
            }
            MemorySegment h = out.get(ValueLayout.ADDRESS, 0);
            StructLayout I = PanoptH.BACKEND_INFO;
            MemorySegment info = arena.allocate(I);
            info.set(ValueLayout.JAVA_INT, PanoptH.offset(I, "struct_size"), (int) I.byteSize());
            Native.check(panopt_backend_get_info.invoke(h, info), "panopt_backend_get_info");
            int n = info.get(ValueLayout.JAVA_INT, PanoptH.offset(I, "n_threads"));
            Isa isa = Isa.ofCode(info.get(ValueLayout.JAVA_INT, PanoptH.offset(I, "isa")));
            LOG.log(System.Logger.Level.DEBUG, "backend on {0}: {1} threads, {2}", options.device(), n, isa);
            return new Backend(options, h, n, isa, shared);
        }
    }

    /** {@return the options this backend was made with} */
    public BackendOptions options() {
        return options;
    }

    /** {@return the device this backend computes on} */
    public Device device() {
        return options.device();
    }

    /** {@return the threads per parallel region (workers plus the calling thread), as resolved; 1 on a CUDA device} */
    public int threads() {
        return threads;
    }

    /** {@return the CPU kernel instruction set in use (never {@link Isa#AUTO} on the CPU; {@link Isa#AUTO} on a CUDA device)} */
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
     * Frees the worker pool (or the device's context). Does nothing on a shared backend or when already closed.
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
        String what = options.device().kind() == Device.Kind.CPU ? "cpu, " + threads + " threads, " + isa
                : options.device().toString();
        return "Backend[" + what + (shared ? ", shared" : "") + "]";
    }
}
