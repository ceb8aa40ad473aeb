package dev.panopt.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.Answer;
import dev.panopt.ClassificationResult;
import dev.panopt.ContinuationScore;
import dev.panopt.GenerationConfig;
import dev.panopt.GenerationResult;
import dev.panopt.LoadOptions;
import dev.panopt.OptForCausalLM;
import dev.panopt.OptForQuestionAnswering;
import dev.panopt.OptForSequenceClassification;
import dev.panopt.Quantization;
import dev.panopt.ScoreOptions;
import dev.panopt.SequenceScore;
import dev.panopt.tokenizer.EncodeOptions;
import dev.panopt.tokenizer.OptTokenizer;
import dev.panopt.tokenizer.TruncationSide;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every task in {@code local[2]} against the same calls made directly through the Java API, row
 * for row; bad rows (null, too long) get their error and the job succeeds; the model is loaded
 * once for all partitions; model files copied through Hadoop; a bad model path fails the job; the
 * plugin closes the models when the session stops.
 */
class LocalModeTest {
    @TempDir
    static Path tmp;
    static SparkSession spark;
    static Path lm;
    static Path classifier;
    static Path qa;
    static OptTokenizer tok;

    @BeforeAll
    static void start() throws Exception {
        lm = TestModels.causalLm(tmp);
        classifier = TestModels.classifier(tmp);
        qa = TestModels.questionAnswering(tmp);
        tok = OptTokenizer.fromPretrained(lm);
        spark = SparkSessions.local();
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
            // PanoptPlugin closed the models of the (in-process) executor.
            assertEquals(0, ExecutorModels.size());
        }
    }

    /** Rows in order of their id. */
    static List<Row> collect(Dataset<Row> df) {
        List<Row> rows = new ArrayList<>(df.collectAsList());
        rows.sort(java.util.Comparator.comparingInt(r -> r.getInt(r.fieldIndex("id"))));
        return rows;
    }

    /**
     * Batching changes a result by float32 rounding at most (the Java API's promise); the shared
     * references' tolerance: |a - b| <= 2e-4 + 2e-4 |b|.
     */
    static void assertClose(double expected, Object actual, String what) {
        double a = (Double) actual;
        assertTrue(Math.abs(a - expected) <= 2e-4 + 2e-4 * Math.abs(expected), () -> what + ": expected " + expected
                + ", got " + a);
    }

    @Test
    void classifyEqualsTheJavaApiRowForRowAndBadRowsGetErrors() throws Exception {
        List<String> texts = new ArrayList<>(Texts.sentences(240, 1));
        texts.set(17, null);
        texts.set(101, Texts.longText(TestModels.CONTEXT + 50));
        ModelLoadsAccumulator loads = ModelLoadsAccumulator.register(spark, "classify loads");
        // A location of its own, so that no other test of the session has loaded this model already.
        Path model = java.nio.file.Files.createSymbolicLink(tmp.resolve("classifier-counted"), classifier);
        Dataset<Row> out = PanoptTransformer.classify().option("model", model.toString()).option("batchSize", 8)
                .option("sortWindow", 32).recordLoads(loads).transform(SparkSessions.texts(spark, texts, 6));
        List<Row> rows = collect(out);
        assertEquals(List.of("id", "text", "label", "label_id", "score", "scores", "error"), List.of(out.columns()));
        assertEquals(texts.size(), rows.size());
        try (OptForSequenceClassification m = OptForSequenceClassification.fromPretrained(classifier)) {
            for (int i = 0; i < texts.size(); i++) {
                Row r = rows.get(i);
                if (i == 17) {
                    assertEquals("column text is null", r.getAs("error"));
                    assertTrue(r.isNullAt(r.fieldIndex("label")));
                    continue;
                }
                if (i == 101) {
                    assertEquals("the input has 179 tokens, more than the 128 the model takes; .option(\"truncation\", true) "
                            + "cuts it", r.getAs("error"));
                    continue;
                }
                ClassificationResult want = m.classify(tok, texts.get(i));
                assertNull(r.getAs("error"), "row " + i);
                assertEquals(want.label(), r.getAs("label"), "row " + i);
                assertEquals(want.labelId(), (int) r.getAs("label_id"), "row " + i);
                assertClose(want.score(), r.getAs("score"), "row " + i);
                Map<String, Double> scores = r.getJavaMap(r.fieldIndex("scores"));
                assertEquals(List.copyOf(want.scores().keySet()), List.copyOf(scores.keySet()), "row " + i);
                for (Map.Entry<String, Double> e : want.scores().entrySet()) {
                    assertClose(e.getValue(), scores.get(e.getKey()), "row " + i + " " + e.getKey());
                }
            }
        }
        assertEquals(1, loads.value().size(), "one load for 6 partitions: " + loads.value());
        ModelLoad load = loads.value().get(0);
        assertEquals("OptForSequenceClassification", load.modelClass());
        assertEquals(2, load.threads(), "one native thread per task core of local[2]");
        assertEquals(0, load.copiedBytes(), "a local path is read in place");
    }

    @Test
    void scoreEqualsTheJavaApi() throws Exception {
        List<String> texts = Texts.sentences(48, 2);
        List<Row> rows = collect(PanoptTransformer.score().option("model", lm.toString()).option("batchSize", 4)
                .transform(SparkSessions.texts(spark, texts, 3)));
        try (OptForCausalLM m = OptForCausalLM.fromPretrained(lm)) {
            for (int i = 0; i < texts.size(); i++) {
                SequenceScore want = m.score(tok, texts.get(i));
                Row r = rows.get(i);
                assertNull(r.getAs("error"));
                assertClose(want.sum(), r.getAs("log_likelihood"), "row " + i);
                assertClose(want.mean(), r.getAs("mean_logprob"), "row " + i);
                assertClose(want.perplexity(), r.getAs("perplexity"), "row " + i);
                assertEquals(want.numScoredTokens(), (int) r.getAs("num_tokens"), "row " + i);
            }
        }
    }

    @Test
    void scoreContinuationsEqualsTheJavaApi() throws Exception {
        List<String> ctx = Texts.sentences(36, 3);
        List<String> cont = Texts.sentences(36, 4);
        List<String[]> pairs = new ArrayList<>();
        for (int i = 0; i < ctx.size(); i++) {
            pairs.add(new String[] {i % 7 == 0 ? "" : ctx.get(i) + " ", cont.get(i)});
        }
        pairs.set(5, new String[] {"A context", ""});
        List<Row> rows = collect(PanoptTransformer.scoreContinuations().option("model", lm.toString())
                .transform(SparkSessions.pairs(spark, "context", "continuation", pairs, 2)));
        try (OptForCausalLM m = OptForCausalLM.fromPretrained(lm)) {
            for (int i = 0; i < pairs.size(); i++) {
                Row r = rows.get(i);
                if (i == 5) {
                    assertNotNull(r.getAs("error"), "an empty continuation is the row's error");
                    continue;
                }
                ContinuationScore want = m.scoreContinuations(tok, List.of(pairs.get(i)[0]), List.of(pairs.get(i)[1]),
                        ScoreOptions.DEFAULT).get(0);
                assertNull(r.getAs("error"), "row " + i);
                assertClose(want.logLikelihood(), r.getAs("log_likelihood"), "row " + i);
                assertEquals(want.isGreedy(), r.getAs("is_greedy"), "row " + i);
                assertEquals(want.continuationIds().length, (int) r.getAs("num_tokens"), "row " + i);
            }
        }
    }

    @Test
    void generateEqualsTheJavaApi() throws Exception {
        List<String> prompts = Texts.sentences(24, 5);
        List<Row> rows = collect(PanoptTransformer.generate().option("model", lm.toString()).option("maxNewTokens", 6)
                .option("batchSize", 4).transform(SparkSessions.texts(spark, prompts, 2)));
        try (OptForCausalLM m = OptForCausalLM.fromPretrained(lm)) {
            for (int i = 0; i < prompts.size(); i++) {
                GenerationResult want = m.generate(tok, prompts.get(i), GenerationConfig.greedy(6));
                Row r = rows.get(i);
                assertNull(r.getAs("error"), "row " + i);
                assertEquals(want.text(), r.getAs("generated_text"), "row " + i);
                assertEquals(want.reason(0).name(), r.getAs("finish_reason"), "row " + i);
                assertEquals(want.tokens(0).length, (int) r.getAs("num_generated_tokens"), "row " + i);
            }
        }
    }

    @Test
    void quantizedWeightsEqualTheJavaApiLoadedSo() throws Exception {
        List<String> texts = Texts.sentences(16, 9);
        List<Row> rows = collect(PanoptTransformer.classify().option("model", classifier.toString())
                .option("quantization", "Q8_0").transform(SparkSessions.texts(spark, texts, 2)));
        try (OptForSequenceClassification m = OptForSequenceClassification.fromPretrained(classifier,
                LoadOptions.builder().quantization(Quantization.Q8_0).build())) {
            for (int i = 0; i < texts.size(); i++) {
                ClassificationResult want = m.classify(tok, texts.get(i));
                assertEquals(want.label(), rows.get(i).getAs("label"), "row " + i);
                assertClose(want.score(), rows.get(i).getAs("score"), "row " + i);
            }
        }
    }

    @Test
    void answerEqualsTheJavaApi() throws Exception {
        List<String> contexts = Texts.sentences(30, 6);
        List<String[]> pairs = new ArrayList<>();
        for (int i = 0; i < contexts.size(); i++) {
            pairs.add(new String[] {i % 2 == 0 ? "Who ran?" : "Where is the garden?", contexts.get(i)});
        }
        // Longer than the model's positions: read in windows, as the Java API does.
        pairs.set(3, new String[] {"Who ran?", String.join(" ", Texts.sentences(12, 60))});
        List<Row> rows = collect(PanoptTransformer.answer().option("model", qa.toString())
                .transform(SparkSessions.pairs(spark, "question", "context", pairs, 2)));
        try (OptForQuestionAnswering m = OptForQuestionAnswering.fromPretrained(qa)) {
            for (int i = 0; i < pairs.size(); i++) {
                Answer want = m.answer(tok, pairs.get(i)[0], pairs.get(i)[1]);
                Row r = rows.get(i);
                assertNull(r.getAs("error"), "row " + i);
                assertEquals(want.text(), r.getAs("answer"), "row " + i);
                assertEquals(want.start(), (int) r.getAs("start"), "row " + i);
                assertEquals(want.end(), (int) r.getAs("end"), "row " + i);
                assertClose(want.score(), r.getAs("score"), "row " + i);
            }
        }
    }

    @Test
    void truncationCutsLongRowsAsTheJavaApiDoes() throws Exception {
        String longText = Texts.longText(TestModels.CONTEXT + 50);
        List<String> texts = List.of("A short text.", longText);
        List<Row> rows = collect(PanoptTransformer.score().option("model", lm.toString()).option("truncation", true)
                .option("outputPrefix", "s_").transform(SparkSessions.texts(spark, texts, 1)));
        assertNull(rows.get(1).getAs("s_error"));
        // The longest prefix the model scores: context + 1 tokens with the BOS (the last is only a target).
        int keep = TestModels.CONTEXT;
        String cut = tok.decode(java.util.Arrays.copyOf(tok.encode(longText, false), keep));
        assertTrue(longText.startsWith(cut));
        String tail = "Tail " + longText + " end.";
        String prompt = "Prompt " + longText + " and then";
        List<Row> left = collect(PanoptTransformer.classify().option("model", classifier.toString())
                .option("truncation", true).option("truncationSide", "left")
                .transform(SparkSessions.texts(spark, List.of(tail), 1)));
        List<Row> generated = collect(PanoptTransformer.generate().option("model", lm.toString()).option("maxNewTokens", 4)
                .option("truncation", true).transform(SparkSessions.texts(spark, List.of(prompt), 1)));
        try (OptForCausalLM m = OptForCausalLM.fromPretrained(lm);
             OptForSequenceClassification c = OptForSequenceClassification.fromPretrained(classifier)) {
            SequenceScore want = m.score(tok, cut);
            assertEquals(keep, want.numScoredTokens());
            assertEquals(keep, (int) rows.get(1).getAs("s_num_tokens"));
            assertClose(want.sum(), rows.get(1).getAs("s_log_likelihood"), "truncated row");
            EncodeOptions fromTheLeft = EncodeOptions.builder().truncation(true).truncationSide(TruncationSide.LEFT).build();
            assertClose(c.classify(tok, tail, fromTheLeft).score(), left.get(0).getAs("score"), "left-truncated row");
            // generate cuts a prompt's start by default.
            assertEquals(m.generate(tok, List.of(prompt), GenerationConfig.greedy(4), fromTheLeft, t -> {}).text(0),
                    generated.get(0).getAs("generated_text"));
        }
        // Without truncation, a pair too long for the model is an error row; with it, the context loses its start.
        List<String[]> pair = List.<String[]>of(new String[] {longText, " the end"});
        assertTrue(collect(PanoptTransformer.scoreContinuations().option("model", lm.toString())
                .transform(SparkSessions.pairs(spark, "context", "continuation", pair, 1))).get(0).<String>getAs("error")
                .contains("can be scored"));
        Row r = collect(PanoptTransformer.scoreContinuations().option("model", lm.toString()).option("truncation", true)
                .transform(SparkSessions.pairs(spark, "context", "continuation", pair, 1))).get(0);
        assertNull(r.getAs("error"));
        assertEquals(tok.encode(" the end", false).length, (int) r.getAs("num_tokens"));
    }

    @Test
    void sqlFunctionsGiveTheTransformersColumns() throws Exception {
        List<String> texts = Texts.sentences(20, 7);
        PanoptTransformer classify = PanoptTransformer.classify().option("model", classifier.toString());
        PanoptFunctions.register(spark, "panopt_classify", classify);
        PanoptFunctions.register(spark, "panopt_answer", PanoptTransformer.answer().option("model", qa.toString()));
        SparkSessions.texts(spark, texts, 2).createOrReplaceTempView("texts");
        List<Row> sql = collect(spark.sql("SELECT id, panopt_classify(text) AS c, panopt_answer('Who ran?', text) AS a "
                + "FROM texts"));
        List<Row> transformed = collect(classify.transform(SparkSessions.texts(spark, texts, 2)));
        try (OptForQuestionAnswering m = OptForQuestionAnswering.fromPretrained(qa)) {
            for (int i = 0; i < texts.size(); i++) {
                Row c = sql.get(i).getStruct(1);
                assertEquals(transformed.get(i).<String>getAs("label"), c.getAs("label"));
                assertClose(transformed.get(i).<Double>getAs("score"), c.getAs("score"), "row " + i);
                assertNull(c.getAs("error"));
                Row a = sql.get(i).getStruct(2);
                assertEquals(m.answer(tok, "Who ran?", texts.get(i)).text(), a.getAs("answer"));
            }
        }
    }

    @Test
    void functionsRejectNulls() {
        com.google.common.testing.NullPointerTester t = NullArgumentsTest.tester().setDefault(SparkSession.class, spark)
                .setDefault(PanoptTransformer.class, PanoptTransformer.classify().option("model", classifier.toString()));
        t.testAllPublicStaticMethods(PanoptFunctions.class);
        t.testAllPublicStaticMethods(ModelLoadsAccumulator.class);
    }

    @Test
    void modelFilesAreCopiedThroughHadoopOnce() throws Exception {
        ModelLoadsAccumulator loads = ModelLoadsAccumulator.register(spark, "copy loads");
        List<Row> rows = collect(PanoptTransformer.score().option("model", lm.toUri().toString()).option("modelCopy", "always")
                .option("threads", 1).recordLoads(loads).transform(SparkSessions.texts(spark, Texts.sentences(12, 8), 4)));
        rows.forEach(r -> assertNull(r.getAs("error")));
        assertEquals(1, loads.value().size(), loads.value().toString());
        long expected = 0;
        try (var files = java.nio.file.Files.list(lm)) {
            for (Path f : files.toList()) {
                expected += java.nio.file.Files.size(f);
            }
        }
        assertEquals(expected, loads.value().get(0).copiedBytes());
        assertEquals(1, loads.value().get(0).threads());
    }

    @Test
    void aBadModelPathFailsTheJobNamingIt() {
        Path missing = tmp.resolve("no-such-model");
        Dataset<Row> df = PanoptTransformer.classify().option("model", missing.toString())
                .transform(SparkSessions.texts(spark, List.of("a text"), 1));
        SparkException e = assertThrows(SparkException.class, df::collectAsList);
        assertTrue(e.getMessage().contains("cannot load the Panopt model for classify") && e.getMessage().contains(missing.toString()),
                e.getMessage());
        // A copied path is checked on the driver, before any job.
        IllegalArgumentException driver = assertThrows(IllegalArgumentException.class, () -> PanoptTransformer.classify()
                .option("model", missing.toUri().toString()).option("modelCopy", "always")
                .transform(SparkSessions.texts(spark, List.of("a text"), 1)));
        assertTrue(driver.getMessage().contains("no config.json in " + missing.toUri()), driver.getMessage());
    }

    @Test
    void optionsAndColumnsAreCheckedOnTheDriver() {
        Dataset<Row> df = SparkSessions.texts(spark, List.of("a"), 1);
        assertThrows(IllegalArgumentException.class, () -> PanoptTransformer.classify().transform(df), "no model");
        assertThrows(IllegalArgumentException.class,
                () -> PanoptTransformer.classify().option("model", "m").option("inputCol", "body").transform(df));
        assertThrows(IllegalArgumentException.class, () -> PanoptTransformer.classify().option("model", "m")
                .option("inputCol", "id").transform(df), "not a string column");
        assertThrows(IllegalArgumentException.class, () -> PanoptTransformer.classify().option("model", "m")
                .transform(df.withColumn("label", df.col("text"))), "label is taken");
        assertEquals(Map.of("model", "m", "batchSize", "4"),
                PanoptTransformer.classify().option("MODEL", "m").option("batchsize", 4).options());
    }
}
