package dev.panopt.spark;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.Backend;
import dev.panopt.BackendOptions;
import dev.panopt.LoadOptions;
import dev.panopt.bench.Checkpoints;
import dev.panopt.bench.ModelShape;
import dev.panopt.tokenizer.OptTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Benchmark: rows per second of classify and score through Spark against the same work (the same
 * length-sorted batches, {@link RowProcessor}) in one plain JVM on all its cores, and each
 * executor's model load time.
 *
 * <p>By default a smoke pass that runs in seconds (CI): the small test checkpoints, a few dozen
 * rows, {@code local[2]}; it checks that every part runs and reports, not the speed. The full
 * benchmark, on OPT-125m's shape (bench's synthetic F16 checkpoint, generated once into
 * {@code ~/.cache/panopt/bench}):
 * <pre>
 * ./mvnw -B -ntp -pl spark -am verify -Dpanopt.fuzz.skip -Dtest=SparkBenchTest -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dpanopt.spark.bench=true [-Dpanopt.spark.bench.rows=2000] [-Dpanopt.spark.bench.master=local-cluster[2,1,2048]]
 * </pre>
 * Results are printed and written to {@code spark/target/spark-bench.md}.
 */
class SparkBenchTest {
    @TempDir
    Path tmp;

    /** One measured pass. */
    record Pass(String task, String where, int rows, double seconds) {
        double rowsPerSecond() {
            return rows / seconds;
        }
    }

    @Test
    void benchmark() throws Exception {
        boolean full = Boolean.getBoolean("panopt.spark.bench");
        int rows = Integer.getInteger("panopt.spark.bench.rows", full ? 2000 : 32);
        String master = System.getProperty("panopt.spark.bench.master", "local[2]");
        int batchSize = 8;
        Path lm;
        Path classifier;
        if (full) {
            Path base = Checkpoints.opt(ModelShape.OPT_125M, "F16");
            lm = TestModels.causalLm(base, tmp.resolve("lm"), ModelShape.OPT_125M.maxPositions());
            classifier = TestModels.classifier(base, tmp.resolve("classifier"), ModelShape.OPT_125M.maxPositions());
        } else {
            lm = TestModels.causalLm(tmp);
            classifier = TestModels.classifier(tmp);
        }
        List<String> texts = Texts.sentences(rows, 99);
        Map<String, PanoptTransformer> tasks = Map.of(
                "classify", PanoptTransformer.classify().option("model", classifier.toString()).option("batchSize", batchSize),
                "score", PanoptTransformer.score().option("model", lm.toString()).option("batchSize", batchSize));

        List<Pass> passes = new ArrayList<>();
        for (String task : List.of("classify", "score")) {
            passes.add(plainJvm(task, tasks.get(task), texts));
        }
        List<ModelLoad> loads;
        SparkSession spark = SparkSessions.start(master);
        try {
            ModelLoadsAccumulator acc = ModelLoadsAccumulator.register(spark, "bench loads");
            int partitions = 2 * spark.sparkContext().defaultParallelism();
            for (String task : List.of("classify", "score")) {
                PanoptTransformer t = tasks.get(task).recordLoads(acc);
                // A first pass over a few rows loads the model on every executor; it is not timed.
                run(t.transform(SparkSessions.texts(spark, texts.subList(0, Math.min(rows, 4 * partitions)), 4 * partitions)));
                Dataset<Row> df = t.transform(SparkSessions.texts(spark, texts, partitions));
                long t0 = System.nanoTime();
                run(df);
                passes.add(new Pass(task, "spark " + master, rows, (System.nanoTime() - t0) / 1e9));
            }
            assertNoErrors(tasks.get("classify").transform(SparkSessions.texts(spark, texts.subList(0, 8), 2)));
            loads = acc.value();
        } finally {
            spark.stop();
        }
        String report = report(full, master, batchSize, passes, loads);
        System.out.println(report);
        Files.writeString(Path.of("target", "spark-bench.md"), report);
        assertFalse(loads.isEmpty());
        for (Pass p : passes) {
            assertTrue(p.seconds() > 0 && p.rows() == rows, p.toString());
        }
    }

    /** The same batches through the same code on one model with every core of this JVM. */
    private static Pass plainJvm(String task, PanoptTransformer t, List<String> texts) throws IOException {
        TaskOptions o = TaskOptions.parse(t.task(), t.options());
        Backend backend = Backend.create(BackendOptions.builder().threads(Runtime.getRuntime().availableProcessors()).build());
        try (LoadedModel m = new LoadedModel(o.task.modelKind().load(Path.of(o.model),
                LoadOptions.builder().backend(backend).build()), OptTokenizer.fromPretrained(Path.of(o.model)), backend)) {
            List<String[]> inputs = new ArrayList<>();
            for (String s : texts) {
                inputs.add(new String[] {s});
            }
            long t0 = System.nanoTime();
            for (int from = 0; from < inputs.size(); from += o.sortWindow) {
                for (RowProcessor.Outcome out : RowProcessor.process(m, o, inputs.subList(from, Math.min(inputs.size(),
                        from + o.sortWindow)))) {
                    assertNull(out.error());
                }
            }
            return new Pass(task, "plain JVM", texts.size(), (System.nanoTime() - t0) / 1e9);
        }
    }

    /** Runs every row through the task without collecting it (Spark's no-op sink). */
    private static void run(Dataset<Row> df) {
        df.write().format("noop").mode("overwrite").save();
    }

    private static void assertNoErrors(Dataset<Row> df) {
        for (Row r : df.collectAsList()) {
            assertNull(r.getAs("error"), r.toString());
        }
    }

    private static String report(boolean full, String master, int batchSize, List<Pass> passes, List<ModelLoad> loads) {
        StringBuilder b = new StringBuilder();
        b.append("# Panopt on Spark: ").append(full ? "benchmark (OPT-125m shape, F16)" : "smoke pass (test checkpoints; "
                + "not a measurement)").append("\n\n");
        b.append(String.format(Locale.ROOT, "master %s, batchSize %d, %d CPUs%n%n", master, batchSize,
                Runtime.getRuntime().availableProcessors()));
        b.append("| task | where | rows | seconds | rows/s |\n|---|---|---:|---:|---:|\n");
        for (Pass p : passes) {
            b.append(String.format(Locale.ROOT, "| %s | %s | %d | %.2f | %.1f |%n", p.task(), p.where(), p.rows(),
                    p.seconds(), p.rowsPerSecond()));
        }
        b.append("\n| executor | model | threads | copy ms | load ms |\n|---|---|---:|---:|---:|\n");
        for (ModelLoad l : loads) {
            b.append(String.format(Locale.ROOT, "| %s | %s | %d | %d | %d |%n", l.executorId(), l.modelClass(),
                    l.threads(), l.copyMillis(), l.loadMillis()));
        }
        return b.toString();
    }
}
