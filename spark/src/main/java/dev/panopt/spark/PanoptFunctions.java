package dev.panopt.spark;

import java.util.List;
import java.util.Objects;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The tasks of {@link PanoptTransformer} as SQL functions: each call returns a struct of the
 * columns the transformer would add (the task's outputs and {@code error}).
 *
 * <pre>{@code
 * PanoptFunctions.register(spark, "classify", PanoptTransformer.classify().option("model", "/models/opt-sst2"));
 * spark.sql("SELECT text, classify(text).label AS label FROM reviews");
 * }</pre>
 *
 * <p>generate, classify and score take one string argument; scoreContinuations (context,
 * continuation) and answer (question, context) take two. The column options of the transformer do
 * not apply: the arguments are the inputs. The executor's model is loaded once and shared as with
 * the transformer, but Spark calls a function one row at a time, so each call is a batch of one:
 * for throughput over many rows use {@link PanoptTransformer#transform}, which batches.
 *
 * <p>Thread-safety: stateless; thread-safe.
 */
public final class PanoptFunctions {
    private PanoptFunctions() {}

    /**
     * The task of {@code transformer} as a function of columns, e.g.
     * {@code df.select(classify.apply(col("text")).getField("label"))}.
     *
     * @param spark       the session (its Hadoop configuration is sent to executors that copy model files)
     * @param transformer the task and its options
     * @return the function, with the struct return type of the task
     * @throws IllegalArgumentException if an option is missing or invalid, or a non-local model path has no config.json
     */
    public static UserDefinedFunction udf(SparkSession spark, PanoptTransformer transformer) {
        Objects.requireNonNull(spark, "spark");
        Objects.requireNonNull(transformer, "transformer");
        TaskOptions o = transformer.parsedOptions(spark.sparkContext().hadoopConfiguration());
        Call call = new Call(o, HadoopConf.of(spark.sparkContext().hadoopConfiguration()), transformer.loads());
        StructType type = DataTypes.createStructType(OutputColumns.fields(o));
        UserDefinedFunction f = o.inputColumns.size() == 1
                ? functions.udf((UDF1<String, Row>) call::call, type)
                : functions.udf((UDF2<String, String, Row>) call::call, type);
        return o.isNondeterministic() ? f.asNondeterministic() : f;
    }

    /**
     * Registers the task of {@code transformer} as the SQL function {@code name} of the session.
     *
     * @param spark       the session
     * @param name        the function's name in SQL
     * @param transformer the task and its options
     * @return the registered function
     * @throws IllegalArgumentException as {@link #udf}
     */
    public static UserDefinedFunction register(SparkSession spark, String name, PanoptTransformer transformer) {
        Objects.requireNonNull(name, "name");
        UserDefinedFunction f = udf(spark, transformer);
        return spark.udf().register(name, f);
    }

    /**
     * One row through the executor's model: the body of the functions.
     *
     * @param options the task's options
     * @param hadoop  the driver's Hadoop configuration
     * @param loads   where loads are reported, or null
     */
    private record Call(TaskOptions options, HadoopConf hadoop, ModelLoadsAccumulator loads) implements java.io.Serializable {
        Row call(String... inputs) {
            LoadedModel model = ExecutorModels.acquire(options, hadoop, loads);
            RowProcessor.Outcome o = RowProcessor.process(model, options, List.<String[]>of(inputs)).get(0);
            return RowFactory.create(OutputColumns.values(options, o));
        }
    }
}
