package dev.panopt.spark;

import dev.panopt.Backend;
import dev.panopt.BackendOptions;
import dev.panopt.LoadOptions;
import dev.panopt.OptPreTrainedModel;
import dev.panopt.Quantization;
import dev.panopt.tokenizer.OptTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkEnv;

/**
 * The models of this JVM (an executor, or the driver in local mode): each is loaded once, by the
 * first task that needs it, and then shared by every task of the executor until
 * {@link #closeAll()} — called by {@link PanoptPlugin} when the executor stops, and by a JVM
 * shutdown hook otherwise. Tasks needing different models load them concurrently; tasks needing
 * one model wait for its single load. A failed load is not remembered: the next task tries again.
 */
final class ExecutorModels {
    private static final System.Logger LOG = System.getLogger(ExecutorModels.class.getName());
    private static final ConcurrentHashMap<ModelKey, Slot> MODELS = new ConcurrentHashMap<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ExecutorModels::closeAll, "panopt-spark-close-models"));
    }

    private ExecutorModels() {}

    /** Holds one model, loaded on first use. */
    private static final class Slot {
        private LoadedModel model; // guarded by this

        synchronized LoadedModel get(ModelKey key, TaskOptions options, HadoopConf hadoop, ModelLoadsAccumulator loads) {
            if (model == null) {
                model = load(key, options, hadoop, loads);
            }
            return model;
        }

        synchronized void close() {
            if (model != null) {
                model.close();
                model = null;
            }
        }
    }

    /**
     * The executor's model for a task's options, loading it if this is the first task to need it.
     *
     * @param loads where to report a load, or null
     * @throws UncheckedIOException if the model or tokenizer cannot be read (the task fails with the cause)
     */
    static LoadedModel acquire(TaskOptions options, HadoopConf hadoop, ModelLoadsAccumulator loads) {
        int threads = options.threads > 0 ? options.threads : ExecutorCores.get();
        ModelKey key = ModelKey.of(options, threads);
        return MODELS.computeIfAbsent(key, k -> new Slot()).get(key, options, hadoop, loads);
    }

    /** {@return how many models this JVM holds} */
    static int size() {
        return (int) MODELS.values().stream().filter(s -> {
            synchronized (s) {
                return s.model != null;
            }
        }).count();
    }

    /** Closes every model of this JVM; a later task loads its model again. */
    static void closeAll() {
        List<Slot> slots = new ArrayList<>(MODELS.values());
        MODELS.clear();
        for (Slot s : slots) {
            try {
                s.close();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "closing a Panopt model failed", e);
            }
        }
    }

    private static LoadedModel load(ModelKey key, TaskOptions options, HadoopConf hadoop, ModelLoadsAccumulator loads) {
        String executor = SparkEnv.get() != null ? SparkEnv.get().executorId() : "none";
        String what = key.kind() + " " + key.model() + " on executor " + executor;
        long t0 = System.nanoTime();
        Backend backend = null;
        OptPreTrainedModel model = null;
        try {
            ModelFiles.Local dir = ModelFiles.localize(key.model(), key.modelCopy(), hadoop.get());
            ModelFiles.Local tokDir = key.tokenizer().equals(key.model()) ? dir
                    : ModelFiles.localize(key.tokenizer(), key.modelCopy(), hadoop.get());
            long t1 = System.nanoTime();
            backend = Backend.create(BackendOptions.builder().threads(key.threads()).isa(key.isa()).build());
            LoadOptions lo = LoadOptions.builder().backend(backend)
                    .quantization(Quantization.named(key.quantization())).build();
            model = key.kind().load(dir.directory(), lo);
            OptTokenizer tokenizer = OptTokenizer.fromPretrained(tokDir.directory());
            if (tokenizer.vocabSize() > model.config().vocabSize()) {
                // Every row would fail on it: a job failure, not an error per row.
                throw new IllegalArgumentException("the tokenizer (" + key.tokenizer() + ") has " + tokenizer.vocabSize()
                        + " tokens, more than the model's vocab_size " + model.config().vocabSize());
            }
            LoadedModel loaded = new LoadedModel(model, tokenizer, backend);
            long t2 = System.nanoTime();
            ModelLoad report = new ModelLoad(executor, host(), key.model(), model.getClass().getSimpleName(),
                    key.threads(), dir.copiedBytes() + (tokDir == dir ? 0 : tokDir.copiedBytes()),
                    (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000);
            LOG.log(System.Logger.Level.INFO, "loaded {0}: {1}", what, report);
            if (loads != null) {
                loads.add(report);
            }
            return loaded;
        } catch (IOException | RuntimeException e) {
            if (model != null) {
                model.close();
            }
            if (backend != null) {
                backend.close();
            }
            String msg = "cannot load the Panopt model for " + options.task + " (" + what + "): " + e.getMessage();
            throw e instanceof IOException io ? new UncheckedIOException(msg, io) : new IllegalStateException(msg, e);
        }
    }

    private static String host() {
        SparkEnv env = SparkEnv.get();
        return env != null && env.blockManager() != null ? env.blockManager().blockManagerId().host() : "localhost";
    }
}
