package dev.panopt;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.reflect.ClassPath;
import com.google.common.testing.NullPointerTester;
import dev.panopt.checkpoint.Checkpoint;
import dev.panopt.checkpoint.GgufFile;
import dev.panopt.checkpoint.GgufWriter;
import dev.panopt.checkpoint.SafetensorsFile;
import dev.panopt.checkpoint.TensorInfo;
import dev.panopt.hub.DownloadProgress;
import dev.panopt.hub.HubClient;
import dev.panopt.hub.HubOptions;
import dev.panopt.hub.RepoRef;
import dev.panopt.tokenizer.EncodeOptions;
import dev.panopt.tokenizer.OptTokenizer;
import java.lang.foreign.Arena;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Guava's {@link NullPointerTester} across the public API of {@code dev.panopt},
 * {@code dev.panopt.tokenizer}, {@code dev.panopt.checkpoint} and {@code dev.panopt.hub}: every public constructor, static
 * method and (on a sample instance of each class) instance method rejects each null argument with
 * {@link NullPointerException}, except parameters annotated {@link Nullable}.
 */
class NullArgumentsTest {
    static final Path FIXTURES = GenerationTest.FIXTURES;
    static final Path TINY = FIXTURES.resolve("cases/preln-tiny");
    static final List<String> PACKAGES = List.of("dev.panopt", "dev.panopt.tokenizer", "dev.panopt.checkpoint",
            "dev.panopt.hub");
    static final List<AutoCloseable> OPEN = new ArrayList<>();
    static NullPointerTester tester;
    static List<Object> instances;

    static <T extends AutoCloseable> T open(T c) {
        OPEN.add(0, c);
        return c;
    }

    @BeforeAll
    static void setUp() throws Exception {
        OptTokenizer tok = OptTokenizer.fromPretrained(FIXTURES.resolve("tokenizer"));
        OptForCausalLM lm = open(OptForCausalLM.fromPretrained(TINY));
        OptModel base = open(OptModel.fromPretrained(TINY));
        Session session = open(lm.newSession());
        CausalLMOutput out = open(lm.forward(new int[] {2, 5, 6}));
        BaseModelOutput baseOut = open(base.forward(new int[] {2, 5, 6}));
        Checkpoint ckpt = open(Checkpoint.open(TINY));
        SafetensorsFile st = open(SafetensorsFile.open(TINY.resolve("model.safetensors")));
        OptForSequenceClassification seqcls = open(OptForSequenceClassification.fromPretrained(TaskModelsTest.SEQCLS));
        OptForQuestionAnswering qa = open(OptForQuestionAnswering.fromPretrained(TaskModelsTest.QA));
        PastKeyValues past = open(session.pastKeyValues());
        TokenStream stream = open(lm.stream(new int[][] {{2, 5}}, null, GenerationConfig.greedy(2)));
        GgufFile gguf = open(GgufFile.open(Path.of(NullArgumentsTest.class.getResource(
                "/dev/panopt/checkpoint/GgufFuzzTestInputs/ggufFile/seed-opt-f32").toURI())));
        HubOptions hubOptions = HubOptions.builder(Map.of()).cacheDir(Files.createTempDirectory("hub-null")).offline(true)
                .build();
        HubClient hub = open(HubClient.create(hubOptions));
        tester = new NullPointerTester()
                .setDefault(Path.class, TINY)
                .setDefault(OptTokenizer.class, tok)
                .setDefault(Session.class, session)
                .setDefault(GenerationConfig.class, GenerationConfig.greedy(1))
                .setDefault(SessionOptions.class, SessionOptions.builder().build())
                .setDefault(LoadOptions.class, LoadOptions.DEFAULT)
                .setDefault(Quantization.class, Quantization.NONE)
                .setDefault(BackendOptions.class, BackendOptions.builder().build())
                .setDefault(ForwardOptions.class, ForwardOptions.builder().build())
                .setDefault(EncodeOptions.class, EncodeOptions.defaults())
                .setDefault(ScoreOptions.class, ScoreOptions.DEFAULT)
                .setDefault(EmbeddingOptions.class, EmbeddingOptions.DEFAULT)
                .setDefault(ForwardRequest.class, ForwardRequest.inputIds(new int[] {2, 5}).build())
                .setDefault(Backend.class, Backend.shared())
                .setDefault(Device.class, Device.cpu())
                .setDefault(Arena.class, Arena.global())
                .setDefault(int[].class, new int[] {2, 5})
                .setDefault(int[][].class, new int[][] {{2, 5}})
                .setDefault(TensorInfo.class, new TensorInfo("a", DType.F32, new long[] {1}, 0, 4))
                .setDefault(QuestionAnsweringOptions.class, QuestionAnsweringOptions.defaults())
                .setDefault(dev.panopt.tokenizer.Encoding.class, tok.encodeWithOffsets("a", false))
                .setDefault(String.class, "a")
                .setDefault(HubOptions.class, hubOptions)
                .setDefault(RepoRef.class, RepoRef.of("a/b"))
                .setDefault(DownloadProgress.class, DownloadProgress.NONE)
                .setDefault(Duration.class, Duration.ofSeconds(1));
        instances = List.of(tok, lm, base, seqcls, qa, past, Backend.shared(), session, out, out.logits(), baseOut, ckpt, st, stream,
                GenerationConfig.builder(), ForwardOptions.builder(), LoadOptions.builder(), SessionOptions.builder(),
                BackendOptions.builder(), OptConfig.builder(), EncodeOptions.builder(), ForwardRequest.inputIds(new int[] {2}),
                QuestionAnsweringOptions.builder(),
                OptConfig.load(TINY), tok.newStreamDecoder(true), ScoreOptions.builder(), EmbeddingOptions.builder(),
                ScoreOptions.DEFAULT, EmbeddingOptions.DEFAULT, Device.cuda(1),
                new SequenceScore(new int[] {2, 5}, new float[] {-1}, -1, -1, Math.E),
                new ContinuationScore(new int[] {2}, new int[] {5}, new float[] {-1}, -1, true),
                hub, hubOptions, HubOptions.builder(Map.of()), RepoRef.of("a/b"),
                Quantization.Q4_K_M, Quantization.builder(Quantization.NONE), lm.loadReport(),
                lm.loadReport().tensors().get(0), gguf, new GgufWriter());
    }

    @AfterAll
    static void tearDown() throws Exception {
        for (AutoCloseable c : OPEN) {
            c.close();
        }
    }

    static List<Class<?>> publicClasses() throws Exception {
        List<Class<?>> out = new ArrayList<>();
        for (String p : PACKAGES) {
            for (ClassPath.ClassInfo ci : ClassPath.from(NullArgumentsTest.class.getClassLoader()).getTopLevelClasses(p)) {
                Class<?> c = ci.load();
                if (c.getProtectionDomain().getCodeSource().getLocation().getPath().contains("test-classes")) {
                    continue;
                }
                addPublic(c, out);
            }
        }
        return out;
    }

    static void addPublic(Class<?> c, List<Class<?>> out) {
        if (!Modifier.isPublic(c.getModifiers())) {
            return;
        }
        out.add(c);
        for (Class<?> n : c.getDeclaredClasses()) {
            addPublic(n, out);
        }
    }

    static void check(Map<String, String> failures, java.lang.reflect.Member m, Runnable test) {
        try {
            test.run();
        } catch (Throwable t) {
            failures.put(m.toString(), String.valueOf(t).lines().findFirst().orElse(""));
        }
    }

    @Test
    void everyPublicMethodRejectsNull() throws Exception {
        Map<String, String> failures = new TreeMap<>();
        List<Class<?>> classes = publicClasses();
        assertTrue(classes.size() > 40, "found " + classes);
        for (Class<?> c : classes) {
            for (Constructor<?> k : c.getConstructors()) {
                check(failures, k, () -> tester.testConstructor(k));
            }
            for (Method m : c.getDeclaredMethods()) {
                if (Modifier.isPublic(m.getModifiers()) && Modifier.isStatic(m.getModifiers()) && !m.isSynthetic()) {
                    check(failures, m, () -> tester.testMethod(null, m));
                }
            }
        }
        for (Object o : instances) {
            for (Method m : o.getClass().getMethods()) {
                // equals(null) is false by Object's contract
                boolean isEquals = m.getName().equals("equals") && m.getParameterCount() == 1;
                if (!Modifier.isStatic(m.getModifiers()) && !m.isSynthetic() && !m.isBridge() && !isEquals
                        && m.getDeclaringClass().getName().startsWith("dev.panopt")) {
                    check(failures, m, () -> tester.testMethod(o, m));
                }
            }
        }
        assertTrue(failures.isEmpty(), () -> {
            StringBuilder sb = new StringBuilder(failures.size() + " methods accept null:\n");
            failures.forEach((k, v) -> sb.append(k).append(": ").append(v).append('\n'));
            return sb.toString();
        });
    }
}
