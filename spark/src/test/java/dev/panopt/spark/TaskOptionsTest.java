package dev.panopt.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.GenerationConfig;
import dev.panopt.Isa;
import dev.panopt.QuestionAnsweringOptions;
import dev.panopt.tokenizer.EncodeOptions;
import dev.panopt.tokenizer.TruncationSide;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

/** Options by name: names in any case, defaults, checked values with clear messages, the trip to the executors. */
class TaskOptionsTest {
    static TaskOptions parse(Task task, Map<String, String> m) {
        return TaskOptions.parse(task, m);
    }

    /** A map of alternating keys and values. */
    static Map<String, String> pairs(String... kv) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void defaultsAndNamesInAnyCase() {
        TaskOptions o = parse(Task.CLASSIFY, Map.of("MODEL", "/m", "BatchSize", "4", "isa", "AVX2"));
        assertEquals("/m", o.model);
        assertEquals("/m", o.tokenizer, "the tokenizer defaults to the model directory");
        assertEquals(4, o.batchSize);
        assertEquals(64, o.sortWindow, "16 batches");
        assertEquals(0, o.threads, "the executor's cores");
        assertEquals(Isa.AVX2, o.isa);
        assertEquals("NONE", o.quantization, "the weights as the checkpoint stores them");
        assertEquals("Q4_K_M", parse(Task.SCORE, Map.of("model", "/m", "quantization", "q4_k_m")).quantization);
        assertEquals(TaskOptions.ModelCopy.AUTO, o.modelCopy);
        assertSame(EncodeOptions.defaults(), o.encodeOptions(), "no truncation: a long row is an error");
        assertEquals(List.of("text"), o.inputColumns);
        assertEquals(Map.of("model", "/m", "batchSize", "4", "isa", "AVX2"), o.raw);
        assertEquals(List.of("question", "context"), parse(Task.ANSWER, Map.of("model", "/m")).inputColumns);
        assertEquals(List.of("ctx", "continuation"),
                parse(Task.SCORE_CONTINUATIONS, Map.of("model", "/m", "contextCol", "ctx")).inputColumns);
    }

    @Test
    void truncationOptionsAreHfsTokenizerArguments() {
        EncodeOptions e = parse(Task.CLASSIFY, Map.of("model", "/m", "truncation", "true", "maxLength", "64"))
                .encodeOptions();
        assertEquals(EncodeOptions.Truncation.LONGEST_FIRST, e.truncationStrategy());
        assertEquals(64, e.maxLength());
        assertEquals(TruncationSide.RIGHT, e.truncationSide(), "HF's default side");
        assertEquals(TruncationSide.LEFT, parse(Task.GENERATE, Map.of("model", "/m", "truncation", "true"))
                .encodeOptions().truncationSide(), "a prompt keeps its end");
        assertEquals(TruncationSide.RIGHT, parse(Task.GENERATE, Map.of("model", "/m", "truncation", "true",
                "truncationSide", "right")).encodeOptions().truncationSide());
        assertEquals(false, parse(Task.SCORE, Map.of("model", "/m", "truncation", "true", "addSpecialTokens", "false"))
                .encodeOptions().addSpecialTokens());
    }

    @Test
    void answerOptionsAreThePipelines() {
        QuestionAnsweringOptions q = parse(Task.ANSWER, Map.of("model", "/m", "maxSeqLen", "96", "docStride", "32",
                "maxAnswerLen", "5", "spanScore", "logit_sum")).questionAnsweringOptions();
        assertEquals(96, q.maxSeqLen().getAsInt());
        assertEquals(32, q.docStride().getAsInt());
        assertEquals(5, q.maxAnswerLen());
        assertEquals(QuestionAnsweringOptions.SpanScore.LOGIT_SUM, q.spanScore());
        assertEquals(QuestionAnsweringOptions.defaults().maxQuestionLen(), q.maxQuestionLen());
    }

    @Test
    void generationOptionsMakeTheGenerationConfig() {
        TaskOptions o = parse(Task.GENERATE, pairs("model", "/m", "maxNewTokens", "7", "doSample", "TRUE", "topK", "5",
                "topP", "0.9", "temperature", "0.7", "seed", "42", "eosTokenIds", "2, 50118",
                "stopStrings", "[\"\\n\\n\", \"a, b\"]", "suppressTokens", "7,8"));
        GenerationConfig g = o.generationConfig();
        assertEquals(7, g.maxNewTokens());
        assertTrue(g.doSample());
        assertEquals(5, g.topK());
        assertEquals(0.9, g.topP());
        assertEquals(0.7, g.temperature());
        assertEquals(42L, g.seed().getAsLong());
        assertEquals(Set.of(2, 50118), g.eosTokenIds());
        assertEquals(List.of("\n\n", "a, b"), g.stopStrings());
        GenerationConfig beams = parse(Task.GENERATE, Map.of("model", "/m", "numBeams", "3", "earlyStopping", "never"))
                .generationConfig();
        assertEquals(3, beams.numBeams());
        assertEquals(GenerationConfig.EarlyStopping.NEVER, beams.earlyStopping());
        assertFalse(o.isNondeterministic(), "seeded");
        assertTrue(parse(Task.GENERATE, Map.of("model", "/m", "doSample", "true")).isNondeterministic());
    }

    @Test
    void badOptionsAreClearErrors() {
        assertEquals("unknown option 'maxNewTokens' for classify; known: model, tokenizer, quantization, batchSize, "
                        + "sortWindow, threads, isa, modelCopy, outputPrefix, inputCol, truncation, maxLength, truncationSide",
                assertThrows(IllegalArgumentException.class, () -> TaskOptions.canonicalKey(Task.CLASSIFY, "maxNewTokens"))
                        .getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> parse(Task.SCORE, Map.of())).getMessage()
                .startsWith("option model is required"));
        assertTrue(message(Task.SCORE, Map.of("model", "m", "quantization", "Q3")).startsWith(
                "option quantization: unknown quantization 'Q3'; one of NONE, F32, F16"));
        assertEquals("option batchSize must be at least 1, got 0", message(Task.SCORE, Map.of("model", "m", "batchSize", "0")));
        assertEquals("option batchSize must be an integer, got 'eight'",
                message(Task.SCORE, Map.of("model", "m", "batchSize", "eight")));
        assertEquals("option truncationSide must be one of left, right, got 'middle'",
                message(Task.SCORE, Map.of("model", "m", "truncationSide", "middle")));
        assertEquals("option maxAnswerLen: maxAnswerLen must be >= 1, got 0",
                message(Task.ANSWER, Map.of("model", "m", "maxAnswerLen", "0")));
        assertEquals("option addSpecialTokens must be true or false, got 'yes'",
                message(Task.SCORE, Map.of("model", "m", "addSpecialTokens", "yes")));
        assertEquals("option sortWindow (4 rows) must be at least batchSize (8)",
                message(Task.SCORE, Map.of("model", "m", "sortWindow", "4")));
        assertEquals("invalid generation options: top_p must be in (0, 1], got 1.5",
                message(Task.GENERATE, Map.of("model", "m", "topP", "1.5")));
        assertTrue(message(Task.GENERATE, Map.of("model", "m", "stopStrings", "\\n")).startsWith(
                "option stopStrings must be a JSON array of strings"));
        assertEquals("option eosTokenIds must be comma-separated token ids, got '2;3'",
                message(Task.GENERATE, Map.of("model", "m", "eosTokenIds", "2;3")));
    }

    private static String message(Task task, Map<String, String> m) {
        return assertThrows(IllegalArgumentException.class, () -> parse(task, m)).getMessage();
    }

    @Test
    void optionsTravelToExecutorsWithTheirGenerationConfig() throws Exception {
        TaskOptions o = parse(Task.GENERATE, Map.of("model", "hdfs:///m", "maxNewTokens", "3", "stopStrings", "[\"x\"]"));
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(b)) {
            out.writeObject(o);
        }
        TaskOptions back;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(b.toByteArray()))) {
            back = (TaskOptions) in.readObject();
        }
        assertEquals(o.raw, back.raw);
        assertEquals(3, back.generationConfig().maxNewTokens());
        assertEquals(List.of("x"), back.generationConfig().stopStrings());
    }

    @Test
    void executorCoresFollowSparksSettings() {
        int cpus = Runtime.getRuntime().availableProcessors();
        assertEquals(3, ExecutorCores.of(new SparkConf(false).set("spark.master", "local[2]").set("spark.executor.cores", "3")));
        assertEquals(1, ExecutorCores.of(new SparkConf(false).set("spark.master", "local")));
        assertEquals(4, ExecutorCores.of(new SparkConf(false).set("spark.master", "local[4]")));
        assertEquals(4, ExecutorCores.of(new SparkConf(false).set("spark.master", "local[4, 2]")));
        assertEquals(cpus, ExecutorCores.of(new SparkConf(false).set("spark.master", "local[*]")));
        assertEquals(2, ExecutorCores.of(new SparkConf(false).set("spark.master", "local-cluster[3, 2, 1024]")));
        assertEquals(cpus, ExecutorCores.of(new SparkConf(false).set("spark.master", "spark://host:7077")));
    }

    @Test
    void modelPathsAreReadInPlaceOrCopied() {
        assertTrue(ModelFiles.isReadInPlace("/models/opt", TaskOptions.ModelCopy.AUTO));
        assertTrue(ModelFiles.isReadInPlace("file:///models/opt", TaskOptions.ModelCopy.AUTO));
        assertFalse(ModelFiles.isReadInPlace("hdfs://nn:8020/models/opt", TaskOptions.ModelCopy.AUTO));
        assertFalse(ModelFiles.isReadInPlace("s3a://bucket/opt", TaskOptions.ModelCopy.AUTO));
        assertFalse(ModelFiles.isReadInPlace("/models/opt", TaskOptions.ModelCopy.ALWAYS));
        assertTrue(ModelFiles.isReadInPlace("s3a://bucket/opt", TaskOptions.ModelCopy.NEVER));
        assertTrue(ModelFiles.isReadByPanopt("model-00001-of-00002.safetensors"));
        assertTrue(ModelFiles.isReadByPanopt("merges.txt"));
        assertFalse(ModelFiles.isReadByPanopt("flax_model.msgpack"));
        assertFalse(ModelFiles.isReadByPanopt("tf_model.h5"));
    }
}
