package dev.panopt.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Runs a Panopt model over a DataFrame: {@link #generate()}, {@link #classify()}, {@link #score()},
 * {@link #scoreContinuations()} or {@link #answer()}, configured by options given by name as
 * Spark's readers and writers take them, and applied with {@link #transform(Dataset)}, which
 * returns the input rows, in their order, with the task's columns appended:
 *
 * <pre>{@code
 * Dataset<Row> out = PanoptTransformer.classify()
 *         .option("model", "hdfs:///models/opt-sst2")
 *         .option("batchSize", 16)
 *         .transform(df);                        // df's columns + label, label_id, score, scores, error
 * }</pre>
 *
 * <p>Execution: each executor loads the model once, on its first task, and shares it between its
 * tasks until it stops (see {@link PanoptPlugin}); the model computes with one native thread per
 * task core of the executor. Each partition is read in windows of {@code sortWindow} rows whose
 * rows are sorted by length and cut into batches of {@code batchSize}, so a batch holds rows of
 * similar length; outputs come back in the input's order. A row that cannot run (a null input, an
 * input too long for the model without truncation, or one the model rejects) gets its reason in
 * the {@code error} column and null outputs, and the job goes on; a model that cannot be loaded
 * fails the job.
 *
 * <p>Options (names are matched without regard to case; values may be given as strings):
 * <table>
 *   <caption>Options of every task</caption>
 *   <tr><th>option</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>model</td><td>(required)</td><td>the checkpoint directory: a local path on every node, or any
 *       Hadoop path (hdfs://, s3a://, ...), which each executor copies to its local disk once</td></tr>
 *   <tr><td>tokenizer</td><td>the model directory</td><td>the directory of vocab.json + merges.txt or tokenizer.json</td></tr>
 *   <tr><td>quantization</td><td>none</td><td>a {@link dev.panopt.Quantization} preset (e.g. Q8_0, Q4_K_M) that
 *       each executor converts the weights to while loading them</td></tr>
 *   <tr><td>modelCopy</td><td>auto</td><td>auto: copy unless the path is local; always; never (read every
 *       path in place)</td></tr>
 *   <tr><td>batchSize</td><td>8</td><td>rows per forward pass</td></tr>
 *   <tr><td>sortWindow</td><td>16 × batchSize</td><td>rows read from a partition at a time and sorted
 *       by length into batches</td></tr>
 *   <tr><td>threads</td><td>0</td><td>native threads of the executor's model; 0: the executor's task cores
 *       ({@code spark.executor.cores}, or the local master's)</td></tr>
 *   <tr><td>isa</td><td>auto</td><td>kernels: auto, scalar, avx2, avx512, avx512_vnni, amx, neon</td></tr>
 *   <tr><td>outputPrefix</td><td>""</td><td>put before the name of every added column</td></tr>
 * </table>
 * Input columns: {@code inputCol} (default {@code text}) for generate, classify and score;
 * {@code contextCol} ({@code context}) and {@code continuationCol} ({@code continuation}) for
 * scoreContinuations; {@code questionCol} ({@code question}) and {@code contextCol}
 * ({@code context}) for answer.
 *
 * <p>Long inputs (generate, classify, score, scoreContinuations): HF's {@code truncation} (default
 * false: a row too long for the model is an error row), {@code maxLength} (default: what the model
 * takes) and {@code truncationSide} (right, HF's default, except for generate, where left keeps the
 * prompt's end); scoreContinuations always cuts the context's start, as lm-evaluation-harness does.
 * answer reads a context of any length in HF's overlapping windows: {@code maxSeqLen},
 * {@code docStride}, {@code maxQuestionLen}, {@code maxAnswerLen} (15) and {@code spanScore}
 * (probability or logit_sum), as {@link dev.panopt.QuestionAnsweringOptions}.
 *
 * <p>Task options: {@code addSpecialTokens} (true) for score and scoreContinuations; for generate the
 * {@link dev.panopt.GenerationConfig} fields by their names: {@code maxNewTokens} (20),
 * {@code minNewTokens}, {@code doSample}, {@code temperature}, {@code topK}, {@code topP}, {@code minP},
 * {@code typicalP}, {@code epsilonCutoff}, {@code repetitionPenalty}, {@code presencePenalty},
 * {@code frequencyPenalty}, {@code noRepeatNgramSize}, {@code numBeams}, {@code lengthPenalty},
 * {@code earlyStopping} (true, false or never), {@code seed}, {@code eosTokenIds},
 * {@code stopTokenIds}, {@code suppressTokens} and {@code forcedEosTokenId} (comma-separated ids) and
 * {@code stopStrings} (a JSON array of strings).
 *
 * <p>Immutable: {@code option} returns a new transformer. Thread-safety: thread-safe.
 */
public final class PanoptTransformer {
    private final Task task;
    private final Map<String, String> options;
    private final ModelLoadsAccumulator loads;

    private PanoptTransformer(Task task, Map<String, String> options, ModelLoadsAccumulator loads) {
        this.task = task;
        this.options = options;
        this.loads = loads;
    }

    private static PanoptTransformer of(Task task) {
        return new PanoptTransformer(task, Map.of(), null);
    }

    /**
     * Text generation ({@link dev.panopt.OptForCausalLM#generate}): prompt column {@code inputCol} →
     * {@code generated_text}, {@code finish_reason} ({@link dev.panopt.FinishReason} name),
     * {@code num_generated_tokens}. Sampling with a seed draws per batch, so a row's text depends on
     * the rows batched with it, as in the Java API.
     *
     * @return the transformer, without options
     */
    public static PanoptTransformer generate() {
        return of(Task.GENERATE);
    }

    /**
     * Sequence classification ({@link dev.panopt.OptForSequenceClassification#classify}): text →
     * {@code label}, {@code label_id}, {@code score}, {@code scores} (every label's score).
     *
     * @return the transformer, without options
     */
    public static PanoptTransformer classify() {
        return of(Task.CLASSIFY);
    }

    /**
     * Text scoring ({@link dev.panopt.OptForCausalLM#score}): text → {@code log_likelihood} (sum of
     * the token log-probabilities), {@code mean_logprob}, {@code perplexity}, {@code num_tokens}
     * (tokens scored).
     *
     * @return the transformer, without options
     */
    public static PanoptTransformer score() {
        return of(Task.SCORE);
    }

    /**
     * Continuation scoring ({@link dev.panopt.OptForCausalLM#scoreContinuations}, lm-evaluation-harness's
     * loglikelihood): context + continuation → {@code log_likelihood} of the continuation,
     * {@code is_greedy}, {@code num_tokens} (the continuation's).
     *
     * @return the transformer, without options
     */
    public static PanoptTransformer scoreContinuations() {
        return of(Task.SCORE_CONTINUATIONS);
    }

    /**
     * Extractive question answering ({@link dev.panopt.OptForQuestionAnswering#answer}: HF's pipeline,
     * a context of any length read in windows; one pair per call): question + context →
     * {@code answer}, {@code start} and {@code end} (character offsets
     * in the context), {@code score}.
     *
     * @return the transformer, without options
     */
    public static PanoptTransformer answer() {
        return of(Task.ANSWER);
    }

    /**
     * Sets an option (see the class documentation).
     *
     * @param key   the option's name, in any case
     * @param value its value
     * @return a transformer with the option set
     * @throws IllegalArgumentException if the task has no option of that name
     */
    public PanoptTransformer option(String key, String value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        Map<String, String> m = new LinkedHashMap<>(options);
        m.put(TaskOptions.canonicalKey(task, key), value);
        return new PanoptTransformer(task, Collections.unmodifiableMap(m), loads);
    }

    /**
     * Sets a numeric option.
     *
     * @param key   the option's name
     * @param value its value
     * @return a transformer with the option set
     */
    public PanoptTransformer option(String key, long value) {
        return option(key, Long.toString(value));
    }

    /**
     * Sets a numeric option.
     *
     * @param key   the option's name
     * @param value its value
     * @return a transformer with the option set
     */
    public PanoptTransformer option(String key, double value) {
        return option(key, Double.toString(value));
    }

    /**
     * Sets a boolean option.
     *
     * @param key   the option's name
     * @param value its value
     * @return a transformer with the option set
     */
    public PanoptTransformer option(String key, boolean value) {
        return option(key, Boolean.toString(value));
    }

    /**
     * Sets several options.
     *
     * @param options names and values
     * @return a transformer with the options set
     */
    public PanoptTransformer options(Map<String, String> options) {
        Objects.requireNonNull(options, "options");
        PanoptTransformer t = this;
        for (Map.Entry<String, String> e : options.entrySet()) {
            t = t.option(e.getKey(), e.getValue());
        }
        return t;
    }

    /**
     * Reports each executor's model load (its time, the bytes copied) to {@code accumulator}.
     *
     * @param accumulator a registered accumulator, see {@link ModelLoadsAccumulator#register}
     * @return a transformer that reports to it
     */
    public PanoptTransformer recordLoads(ModelLoadsAccumulator accumulator) {
        Objects.requireNonNull(accumulator, "accumulator");
        return new PanoptTransformer(task, options, accumulator);
    }

    /** {@return the options set, under their documented names} */
    public Map<String, String> options() {
        return options;
    }

    /**
     * The schema {@link #transform} gives a DataFrame of schema {@code input}: its columns, then the
     * task's. Checks the options and the input columns (present, of type string) first.
     *
     * @param input the input schema
     * @return the output schema
     * @throws IllegalArgumentException if an option is missing or invalid, an input column is
     *                                  missing or not a string, or an added column's name is taken
     */
    public StructType transformSchema(StructType input) {
        Objects.requireNonNull(input, "input");
        TaskOptions o = TaskOptions.parse(task, options);
        inputIndexes(o, input);
        List<String> names = Arrays.asList(input.fieldNames());
        List<StructField> fields = new ArrayList<>(Arrays.asList(input.fields()));
        for (StructField f : OutputColumns.fields(o)) {
            if (names.contains(f.name())) {
                throw new IllegalArgumentException("the input already has a column " + f.name() + ", which " + task
                        + " adds; set .option(\"outputPrefix\", ...) to name the added columns apart");
            }
            fields.add(f);
        }
        return DataTypes.createStructType(fields);
    }

    /**
     * Appends the task's columns to every row of {@code dataset} (lazily: the work runs when an
     * action needs it). A model path that is not local is checked here, on the driver.
     *
     * @param dataset the input
     * @return the input's rows with the task's columns
     * @throws IllegalArgumentException as {@link #transformSchema}, or if a non-local model path has no config.json
     */
    public Dataset<Row> transform(Dataset<?> dataset) {
        Objects.requireNonNull(dataset, "dataset");
        StructType out = transformSchema(dataset.schema());
        TaskOptions o = TaskOptions.parse(task, options);
        Configuration conf = dataset.sparkSession().sparkContext().hadoopConfiguration();
        checkCopiedPaths(o, conf);
        PartitionRunner f = new PartitionRunner(o, HadoopConf.of(conf), loads, inputIndexes(o, dataset.schema()));
        return dataset.toDF().mapPartitions(f, Encoders.row(out));
    }

    /** Parses the options (for {@link PanoptFunctions}), checking those that can be checked on the driver. */
    TaskOptions parsedOptions(Configuration conf) {
        TaskOptions o = TaskOptions.parse(task, options);
        checkCopiedPaths(o, conf);
        return o;
    }

    ModelLoadsAccumulator loads() {
        return loads;
    }

    Task task() {
        return task;
    }

    /** A directory that executors will copy is visible from the driver too: a wrong one fails before any job. */
    private static void checkCopiedPaths(TaskOptions o, Configuration conf) {
        check(o.model, "config.json", o, conf);
        if (!o.tokenizer.equals(o.model)) {
            check(o.tokenizer, null, o, conf);
        }
    }

    private static void check(String location, String file, TaskOptions o, Configuration conf) {
        if (ModelFiles.isReadInPlace(location, o.modelCopy)) {
            return;
        }
        try {
            Path dir = new Path(location);
            FileSystem fs = dir.getFileSystem(conf);
            Path p = file == null ? dir : new Path(dir, file);
            if (!fs.exists(p)) {
                throw new IllegalArgumentException("no " + (file == null ? "directory " + location : file + " in " + location));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + location + ": " + e.getMessage(), e);
        }
    }

    private static int[] inputIndexes(TaskOptions o, StructType schema) {
        List<String> names = Arrays.asList(schema.fieldNames());
        int[] idx = new int[o.inputColumns.size()];
        for (int i = 0; i < idx.length; i++) {
            String c = o.inputColumns.get(i);
            idx[i] = names.indexOf(c);
            if (idx[i] < 0) {
                throw new IllegalArgumentException("no input column " + c + " (the DataFrame has " + names
                        + "); options " + o.task.ownOptions().stream().filter(k -> k.endsWith("Col")).toList()
                        + " name the input columns");
            }
            if (!schema.fields()[idx[i]].dataType().equals(DataTypes.StringType)) {
                throw new IllegalArgumentException("input column " + c + " is " + schema.fields()[idx[i]].dataType()
                        .simpleString() + "; " + o.task + " reads strings");
            }
        }
        return idx;
    }

    @Override
    public String toString() {
        return "PanoptTransformer[" + task + ", " + options + "]";
    }
}
