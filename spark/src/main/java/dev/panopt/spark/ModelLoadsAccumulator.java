package dev.panopt.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.AccumulatorV2;

/**
 * A Spark accumulator of the {@link ModelLoad}s of the jobs that run a transformer given to
 * {@link PanoptTransformer#recordLoads}: how many executors loaded the model, and how long each
 * took. Like every accumulator, it is read on the driver after an action, and a retried task may
 * report twice. Thread-safety: Spark's accumulator contract (one task writes a copy; the driver merges).
 */
public final class ModelLoadsAccumulator extends AccumulatorV2<ModelLoad, List<ModelLoad>> {
    private static final long serialVersionUID = 1L;

    /** The loads added to this copy of the accumulator, or merged into it. */
    private final List<ModelLoad> loads = new ArrayList<>();

    /** An unregistered accumulator; register it with {@link #register(SparkSession, String)} or Spark's {@code register}. */
    public ModelLoadsAccumulator() {}

    /**
     * A new accumulator registered with the session's context under {@code name} (shown in the web UI).
     *
     * @param spark the session
     * @param name  the accumulator's name
     * @return the registered accumulator
     */
    public static ModelLoadsAccumulator register(SparkSession spark, String name) {
        Objects.requireNonNull(spark, "spark");
        Objects.requireNonNull(name, "name");
        ModelLoadsAccumulator a = new ModelLoadsAccumulator();
        spark.sparkContext().register(a, name);
        return a;
    }

    @Override
    public synchronized boolean isZero() {
        return loads.isEmpty();
    }

    @Override
    public synchronized ModelLoadsAccumulator copy() {
        ModelLoadsAccumulator c = new ModelLoadsAccumulator();
        c.loads.addAll(loads);
        return c;
    }

    @Override
    public synchronized void reset() {
        loads.clear();
    }

    @Override
    public synchronized void add(ModelLoad load) {
        loads.add(Objects.requireNonNull(load, "load"));
    }

    @Override
    public void merge(AccumulatorV2<ModelLoad, List<ModelLoad>> other) {
        Objects.requireNonNull(other, "other");
        List<ModelLoad> theirs = other.value();
        synchronized (this) {
            loads.addAll(theirs);
        }
    }

    /** {@return the loads reported so far, in the order they were merged} */
    @Override
    public synchronized List<ModelLoad> value() {
        return List.copyOf(loads);
    }
}
