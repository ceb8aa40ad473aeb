package dev.panopt.spark;

import java.util.Map;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.SparkPlugin;

/**
 * Closes the Panopt models an executor holds when the executor stops, freeing their native memory
 * and threads at once. Enable it with {@code --conf spark.plugins=dev.panopt.spark.PanoptPlugin}.
 * Without it, an executor's models are closed when its JVM exits; with it they are also closed
 * when Spark stops an executor inside a JVM that lives on (local mode: {@code SparkSession.stop()}).
 */
public final class PanoptPlugin implements SparkPlugin {
    /** The plugin, as Spark makes it from {@code spark.plugins}. */
    public PanoptPlugin() {}

    /** {@return null: the driver needs no plugin} */
    @Override
    public DriverPlugin driverPlugin() {
        return null;
    }

    /** {@return the executor side, which closes the executor's models on shutdown} */
    @Override
    public ExecutorPlugin executorPlugin() {
        return new ExecutorPlugin() {
            @Override
            public void init(org.apache.spark.api.plugin.PluginContext ctx, Map<String, String> extraConf) {}

            @Override
            public void shutdown() {
                ExecutorModels.closeAll();
            }
        };
    }
}
