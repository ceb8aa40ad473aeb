package dev.panopt.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.ClassificationResult;
import dev.panopt.OptForCausalLM;
import dev.panopt.OptForSequenceClassification;
import dev.panopt.SequenceScore;
import dev.panopt.tokenizer.OptTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * classify and score in {@code local-cluster[2,1,1024]}: two executor JVMs of one core, started by
 * a standalone worker as on a real cluster. Outputs equal the Java API's row for row, each
 * executor loads each model once however many of its tasks use it, with one native thread (its
 * one core), and a bad row is an error column, not a failed job.
 */
class LocalClusterTest {
    @TempDir
    static Path tmp;
    static SparkSession spark;
    static Path lm;
    static Path classifier;
    static OptTokenizer tok;

    @BeforeAll
    static void start() throws Exception {
        lm = TestModels.causalLm(tmp);
        classifier = TestModels.classifier(tmp);
        tok = OptTokenizer.fromPretrained(lm);
        spark = SparkSessions.localCluster();
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    @Test
    void classifyOnTwoExecutorsLoadsOncePerExecutorAndEqualsTheJavaApi() throws Exception {
        List<String> texts = new ArrayList<>(Texts.sentences(200, 21));
        texts.set(33, Texts.longText(TestModels.CONTEXT + 10));
        ModelLoadsAccumulator loads = ModelLoadsAccumulator.register(spark, "cluster classify loads");
        int partitions = 8;
        List<Row> rows = LocalModeTest.collect(PanoptTransformer.classify().option("model", classifier.toString())
                .option("batchSize", 8).recordLoads(loads).transform(SparkSessions.texts(spark, texts, partitions)));
        try (OptForSequenceClassification m = OptForSequenceClassification.fromPretrained(classifier)) {
            for (int i = 0; i < texts.size(); i++) {
                Row r = rows.get(i);
                if (i == 33) {
                    assertTrue(r.<String>getAs("error").startsWith("the input has 139 tokens, more than the 128 the model takes"),
                            r.toString());
                    continue;
                }
                ClassificationResult want = m.classify(tok, texts.get(i));
                assertNull(r.getAs("error"), "row " + i);
                assertEquals(want.label(), r.getAs("label"), "row " + i);
                LocalModeTest.assertClose(want.score(), r.getAs("score"), "row " + i);
            }
        }
        assertLoadedOncePerExecutor(loads.value(), partitions);
    }

    @Test
    void scoreOnTwoExecutorsEqualsTheJavaApi() throws Exception {
        List<String> texts = Texts.sentences(40, 22);
        ModelLoadsAccumulator loads = ModelLoadsAccumulator.register(spark, "cluster score loads");
        List<Row> rows = LocalModeTest.collect(PanoptTransformer.score().option("model", lm.toString())
                .recordLoads(loads).transform(SparkSessions.texts(spark, texts, 4)));
        try (OptForCausalLM m = OptForCausalLM.fromPretrained(lm)) {
            for (int i = 0; i < texts.size(); i++) {
                SequenceScore want = m.score(tok, texts.get(i));
                Row r = rows.get(i);
                assertNull(r.getAs("error"), "row " + i);
                LocalModeTest.assertClose(want.sum(), r.getAs("log_likelihood"), "row " + i);
                LocalModeTest.assertClose(want.perplexity(), r.getAs("perplexity"), "row " + i);
            }
        }
        assertLoadedOncePerExecutor(loads.value(), 4);
    }

    /** Each executor that ran tasks reports exactly one load, and there were more tasks than loads. */
    private static void assertLoadedOncePerExecutor(List<ModelLoad> loads, int tasks) {
        Set<String> executors = new TreeSet<>();
        for (ModelLoad l : loads) {
            assertTrue(executors.add(l.executorId()), "executor " + l.executorId() + " loaded twice: " + loads);
            assertEquals(1, l.threads(), "one native thread for the executor's one core");
            assertTrue(!l.executorId().equals("driver"), "ran on an executor JVM: " + l);
        }
        assertTrue(!loads.isEmpty() && loads.size() <= 2 && loads.size() < tasks, loads.toString());
    }
}
