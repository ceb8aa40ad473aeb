package dev.panopt.spark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** Spark sessions and DataFrames for the tests: loopback only, no web UI, the Panopt plugin on. */
final class SparkSessions {
    private SparkSessions() {}

    /** A {@code local[2]} session. */
    static SparkSession local() {
        return base("local[2]").getOrCreate();
    }

    /** A session of {@code master}: a local one, or a local cluster as {@link #localCluster()} makes it. */
    static SparkSession start(String master) throws IOException {
        return master.startsWith("local-cluster") ? localCluster(master) : base(master).getOrCreate();
    }

    /**
     * A {@code local-cluster[2,1,1024]} session: a standalone master and two workers in this JVM,
     * each starting one executor JVM with one core. The executors get this JVM's class path (the
     * module's classes, Panopt, Spark and their dependencies) through {@code spark.executor.extraClassPath}.
     * A worker builds the executor's command from the Spark home in {@code SPARK_HOME} (set by the
     * build to target/spark-home), whose jars/ directory it adds; here that directory is empty,
     * since the class path holds every jar already.
     */
    static SparkSession localCluster() throws IOException {
        return localCluster("local-cluster[2,1,1024]");
    }

    private static SparkSession localCluster(String master) throws IOException {
        String home = System.getenv("SPARK_HOME");
        if (home == null) {
            throw new IllegalStateException("SPARK_HOME is not set: the build sets it for local-cluster tests");
        }
        Files.createDirectories(Path.of(home, "jars"));
        return base(master)
                .config("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                .getOrCreate();
    }

    private static SparkSession.Builder base(String master) {
        return SparkSession.builder().master(master).appName("panopt-spark-test")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.plugins", PanoptPlugin.class.getName());
    }

    /** A DataFrame (id, text) of {@code texts} in {@code partitions} partitions, in order. */
    static Dataset<Row> texts(SparkSession spark, List<String> texts, int partitions) {
        StructType schema = DataTypes.createStructType(List.of(
                DataTypes.createStructField("id", DataTypes.IntegerType, false),
                DataTypes.createStructField("text", DataTypes.StringType, true)));
        List<Row> rows = new java.util.ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            rows.add(RowFactory.create(i, texts.get(i)));
        }
        return spark.createDataFrame(JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, partitions), schema);
    }

    /** A DataFrame (id, a, b) of string pairs in {@code partitions} partitions, in order. */
    static Dataset<Row> pairs(SparkSession spark, String a, String b, List<String[]> pairs, int partitions) {
        StructType schema = DataTypes.createStructType(List.of(
                DataTypes.createStructField("id", DataTypes.IntegerType, false),
                DataTypes.createStructField(a, DataTypes.StringType, true),
                DataTypes.createStructField(b, DataTypes.StringType, true)));
        List<Row> rows = new java.util.ArrayList<>();
        for (int i = 0; i < pairs.size(); i++) {
            rows.add(RowFactory.create(i, pairs.get(i)[0], pairs.get(i)[1]));
        }
        return spark.createDataFrame(JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, partitions), schema);
    }
}
