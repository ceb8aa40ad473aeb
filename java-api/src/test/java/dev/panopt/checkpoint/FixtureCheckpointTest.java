package dev.panopt.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.panopt.OptConfig;
import dev.panopt.internal.Json;
import dev.panopt.internal.WeightLayout;
import dev.panopt.internal.WeightSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Positive checks on every conformance fixture case. */
class FixtureCheckpointTest {
    private static final Set<String> HEADS = Set.of("lm_head.weight", "score.weight", "qa_outputs.weight",
            "qa_outputs.bias");

    /** The fixture cases directory: the repository copy, else the shared one. */
    static Path casesDir() {
        List<Path> candidates = new ArrayList<>(List.of(Path.of("../conformance/fixtures/cases"),
                Path.of("conformance/fixtures/cases")));
        String shared = System.getProperty("panopt.shared.dir");
        if (shared != null) {
            candidates.add(Path.of(shared, "conformance", "cases"));
        }
        for (Path p : candidates) {
            if (Files.isDirectory(p)) {
                return p.toAbsolutePath().normalize();
            }
        }
        return fail("conformance fixtures not found in " + candidates);
    }

    static Stream<String> cases() throws IOException {
        try (Stream<Path> s = Files.list(casesDir())) {
            List<String> names = s.filter(p -> Files.isRegularFile(p.resolve("case.json")))
                    .map(p -> p.getFileName().toString()).sorted().toList();
            assertTrue(names.size() >= 11, "expected the 11 fixture cases, found " + names);
            return names.stream();
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void checkpointValidatesAndMatchesLayout(String name) throws IOException {
        Path dir = casesDir().resolve(name);
        Map<String, Object> caseJson = Json.asObject(Json.parse(Files.readString(dir.resolve("case.json"))), "case.json");
        Set<String> expected = new TreeSet<>();
        Set<String> heads = new TreeSet<>();
        for (Object o : Json.asArray(caseJson.get("weight_names"), "weight_names")) {
            String n = Json.asString(o, "weight name");
            String canonical = n.startsWith("model.") ? n.substring(6) : n;
            (HEADS.contains(canonical) ? heads : expected).add(canonical);
        }
        try (Checkpoint cp = Checkpoint.open(dir)) {
            OptConfig c = cp.config();
            assertEquals(c, OptConfig.fromJson(c.toJson()), "toJson round trip");
            Set<String> layout = new TreeSet<>();
            for (WeightSpec w : WeightLayout.decoderWeights(c)) {
                layout.add(w.name());
            }
            assertEquals(expected, layout, "WeightLayout vs case.json weight_names");
            assertEquals(WeightLayout.decoderWeights(c).size(), layout.size(), "no duplicate specs");
            Set<String> all = new TreeSet<>(expected);
            all.addAll(heads);
            assertEquals(all, cp.names());
            cp.validateDecoder();
            assertFalse(cp.names().contains("lm_head.weight"));
            long params = 0;
            for (String n : cp.names()) {
                params += cp.find(n).orElseThrow().numel();
            }
            assertEquals(params, cp.parameterCount());
        }
        try (SafetensorsFile exp = SafetensorsFile.open(dir.resolve("expected.safetensors"))) {
            int floats = 0;
            for (String t : exp.names()) {
                TensorInfo info = exp.info(t);
                if (info.dtype().isFloatingPoint()) {
                    float[] v = exp.readFloats(t);
                    assertEquals(info.numel(), v.length);
                    for (float f : v) {
                        if (!Float.isFinite(f)) {
                            fail(name + ": " + t + " has a non-finite value " + f);
                        }
                    }
                    floats++;
                } else {
                    assertEquals(info.numel(), exp.readLongs(t).length);
                }
            }
            assertTrue(floats > 0, name + ": no floating-point expected tensors");
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void configMatchesCaseDescription(String name) throws IOException {
        OptConfig c = OptConfig.load(casesDir().resolve(name));
        assertEquals("opt", c.modelType());
        assertEquals("4.38.2", c.transformersVersion().orElseThrow());
        assertEquals("relu", c.activationFunction());
        assertTrue(c.extra().isEmpty(), "every key of a fixture config is modelled: " + c.extra().keySet());
        switch (name) {
            case "postln-proj-tiny" -> {
                assertFalse(c.doLayerNormBefore());
                assertFalse(c.hasFinalLayerNorm());
                assertTrue(c.hasProjection());
                assertEquals(32, c.wordEmbedProjDim());
            }
            case "remove-final-ln-tiny" -> {
                assertTrue(c.removeFinalLayerNorm());
                assertFalse(c.hasFinalLayerNorm());
            }
            case "nobias-noaffine-tiny" -> {
                assertFalse(c.enableBias());
                assertFalse(c.layerNormElementwiseAffine());
            }
            case "opt125m-shape-f16" -> {
                assertEquals(50272, c.vocabSize());
                assertEquals(64, c.headDim());
                assertEquals("float16", c.torchDtype().orElseThrow());
            }
            case "seqcls-multi" -> {
                assertEquals(4, c.numLabels());
                assertEquals("multi_label_classification", c.problemType().orElseThrow());
            }
            case "seqcls-regression" -> {
                assertEquals(1, c.numLabels());
                assertEquals("regression", c.problemType().orElseThrow());
            }
            case "seqcls-single" -> assertEquals(3, c.numLabels());
            default -> {
                assertTrue(c.hasFinalLayerNorm());
                assertFalse(c.hasProjection());
            }
        }
    }
}
