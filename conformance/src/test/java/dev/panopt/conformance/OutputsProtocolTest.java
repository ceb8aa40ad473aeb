package dev.panopt.conformance;

import static dev.panopt.conformance.CheckerTest.check;
import static dev.panopt.conformance.CheckerTest.summary;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.panopt.DType;
import dev.panopt.ForwardRequest;
import dev.panopt.OptForQuestionAnswering;
import dev.panopt.QuestionAnsweringOutput;
import dev.panopt.checkpoint.SafetensorsFile;
import dev.panopt.checkpoint.SafetensorsWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The outputs protocol: Panopt's own outputs written to a folder pass {@code check --outputs}; a
 * perturbed copy fails, naming the tensor; missing, misshapen, mistyped and unknown tensors are
 * reported; and {@code export-inputs} gives another implementation all it needs (shown by running the
 * qa case from the exported folder alone).
 */
class OutputsProtocolTest {
    static final Path FIXTURES = ConformanceTest.FIXTURES;
    static final String[] CASES = {"--case", "qa", "--case", "seqcls-single", "--case", "preln-tiny", "--case",
            "inputs-embeds"};

    static String[] args(String... first) {
        String[] a = Arrays.copyOf(first, first.length + CASES.length);
        System.arraycopy(CASES, 0, a, first.length, CASES.length);
        return a;
    }

    static Path writePanoptOutputs(Path dir) {
        CheckerTest.Run r = check(args(FIXTURES.toString(), "--threads", "1", "--write-outputs", dir.toString()));
        assertEquals(0, r.code(), r.out() + r.err());
        return dir;
    }

    /**
     * Rewrites one case's outputs.safetensors without {@code drop}, with {@code perturb}'s element [1, 4]
     * raised by 0.01, and with what {@code extra} adds.
     */
    static void rewrite(Path outputs, String caseName, Consumer<SafetensorsWriter> extra, String drop,
                        String perturb) throws IOException {
        Path file = outputs.resolve("cases").resolve(caseName).resolve("outputs.safetensors");
        SafetensorsWriter w = new SafetensorsWriter();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (String n : f.names()) {
                if (n.equals(drop)) {
                    continue;
                }
                var info = f.info(n);
                if (n.equals(perturb)) {
                    float[] v = f.readFloats(n);
                    v[1 * (int) info.shape()[1] + 4] += 0.01f;  // [1, 4]
                    w.addFloats(n, DType.F32, info.shape(), v);
                } else {
                    w.add(n, info.dtype(), info.shape(), f.data(n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
                }
            }
        }
        extra.accept(w);
        w.write(file);
    }

    @Test
    void panoptsOwnOutputsPassAndAPerturbedCopyFailsNamingTheTensor(@TempDir Path dir) throws IOException {
        Path outputs = writePanoptOutputs(dir.resolve("panopt"));
        CheckerTest.Run ok = check(args(FIXTURES.toString(), "--outputs", outputs.toString()));
        assertEquals(0, ok.code(), ok.out() + ok.err());
        assertTrue(summary(ok.out()).matches("[1-9]\\d+ passed, 0 failed, 0 skipped"), ok.out());
        assertTrue(ok.out().contains("PASS qa"), ok.out());
        assertTrue(ok.out().contains("PASS main       start_logits"), ok.out());
        assertTrue(ok.out().contains("PASS greedy     greedy_ids"), ok.out());

        rewrite(outputs, "qa", w -> { }, null, "start_logits");
        CheckerTest.Run bad = check(args(FIXTURES.toString(), "--outputs", outputs.toString()));
        assertEquals(1, bad.code(), bad.out());
        assertTrue(bad.out().contains("FAIL qa"), bad.out());
        assertTrue(bad.out().contains("FAIL main       start_logits"), bad.out());
        assertTrue(bad.out().contains("first at [1, 4]"), bad.out());
        assertTrue(summary(bad.out()).matches("\\d+ passed, 1 failed, 0 skipped"), bad.out());
        CheckerTest.Run json = check(FIXTURES.toString(), "--outputs", outputs.toString(), "--case", "qa", "--json");
        assertTrue(json.out().replaceAll("\\s", "").contains("\"name\":\"start_logits\",\"shape\":[3,10]"), json.out());
        assertTrue(json.out().contains("\"outputs\" : \"" + outputs.toAbsolutePath()), json.out());
    }

    @Test
    void missingMisshapenMistypedAndUnknownTensorsAreReported(@TempDir Path dir) throws IOException {
        Path outputs = writePanoptOutputs(dir);
        rewrite(outputs, "qa", w -> w.addFloats("bonus", DType.F32, new long[] {1}, new float[] {1}), "loss", null);
        // seqcls-single: logits of the wrong shape (reference [5, 3]), pooled_index as floats (reference I64), no loss
        new SafetensorsWriter().addFloats("logits", DType.F32, new long[] {3, 5}, new float[15])
                .addFloats("pooled_index", DType.F32, new long[] {5}, new float[5])
                .write(outputs.resolve("cases/seqcls-single/outputs.safetensors"));
        Files.delete(outputs.resolve("cases/preln-tiny/outputs.safetensors"));
        Files.write(outputs.resolve("cases/inputs-embeds/outputs.safetensors"), new byte[] {8, 0, 0, 0, 0, 0, 0, 0, '{'});

        CheckerTest.Run r = check(args(FIXTURES.toString(), "--outputs", outputs.toString()));
        assertEquals(1, r.code(), r.out());
        assertTrue(r.out().contains("SKIPPED main/loss: not in outputs.safetensors"), r.out());
        assertTrue(r.out().contains("SKIPPED bonus: not a tensor of this case's reference (ignored)"), r.out());
        assertTrue(r.out().contains("shape [3, 5] instead of [5, 3]"), r.out());
        assertTrue(r.out().contains("dtype F32, expected an integer tensor"), r.out());
        assertTrue(r.out().contains("SKIPPED preln-tiny (no cases/preln-tiny/outputs.safetensors in the outputs)"), r.out());
        assertTrue(r.out().contains("FAIL inputs-embeds (") && r.out().contains("outputs.safetensors"), r.out());
        assertTrue(summary(r.out()).matches("\\d+ passed, 3 failed, 4 skipped"), r.out());
    }

    @Test
    void exportedInputsAreAllAnotherImplementationNeeds(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream sink = new PrintStream(out, true, StandardCharsets.UTF_8);
        assertEquals(0, ExportInputs.run(new String[] {FIXTURES.toString(), dir.toString(), "--case", "qa"}, sink, sink),
                out.toString(StandardCharsets.UTF_8));
        Path qa = dir.resolve("cases/qa");
        try (Stream<Path> s = Files.list(qa)) {
            assertEquals(List.of("config.json", "inputs.json", "inputs.safetensors", "model.safetensors"),
                    s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        JsonNode spec = new ObjectMapper().readTree(qa.resolve("inputs.json").toFile());
        assertEquals(ExportInputs.FORMAT, spec.path("format").asText());
        List<String> outputNames = new ArrayList<>();
        spec.path("outputs").forEach(o -> outputNames.add(o.path("call").asText() + "/" + o.path("name").asText()));
        assertEquals(List.of("main/end_logits", "main/loss", "negative_end/loss_negative_end", "main/start_logits"),
                outputNames);
        assertEquals(2e-4, spec.path("outputs").get(0).path("tolerance").path("atol").asDouble());
        assertEquals(1e-5, spec.path("outputs").get(1).path("tolerance").path("rtol").asDouble());
        try (SafetensorsFile in = SafetensorsFile.open(qa.resolve("inputs.safetensors"));
             SafetensorsFile ref = SafetensorsFile.open(FIXTURES.resolve("cases/qa/expected.safetensors"))) {
            assertEquals(java.util.Set.of("attention_mask", "end_positions", "end_positions_negative", "input_ids",
                    "start_positions"), in.names());
            for (String n : in.names()) {
                assertArrayEquals(ref.readLongs(n), in.readLongs(n), n);
            }
        }

        // "Another implementation": reads only the exported folder, makes the calls inputs.json lists,
        // writes outputs.safetensors beside them.
        runQaCalls(qa, spec);
        CheckerTest.Run r = check(FIXTURES.toString(), "--outputs", dir.toString(), "--case", "qa");
        assertEquals(0, r.code(), r.out());
        assertEquals("4 passed, 0 failed, 0 skipped", summary(r.out()));
    }

    /** OPTForQuestionAnswering calls of an exported inputs.json, run from the exported files alone. */
    static void runQaCalls(Path caseDir, JsonNode spec) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter();
        try (OptForQuestionAnswering m = OptForQuestionAnswering.fromPretrained(caseDir);
             SafetensorsFile in = SafetensorsFile.open(caseDir.resolve(spec.path("inputs").asText()))) {
            for (JsonNode call : spec.path("calls")) {
                JsonNode args = call.path("inputs");
                long[] shape = in.info(args.path("input_ids").asText()).shape();
                int[][] ids = ints2(in, args.path("input_ids").asText(), shape);
                int[][] mask = ints2(in, args.path("attention_mask").asText(), shape);
                int[] starts = Arrays.stream(in.readLongs(args.path("start_positions").asText())).mapToInt(x -> (int) x).toArray();
                int[] ends = Arrays.stream(in.readLongs(args.path("end_positions").asText())).mapToInt(x -> (int) x).toArray();
                try (QuestionAnsweringOutput o = m.forward(ForwardRequest.inputIds(ids).attentionMask(mask)
                        .startPositions(starts).endPositions(ends).build())) {
                    JsonNode outs = call.path("outputs");
                    if (outs.has("start_logits")) {
                        w.addFloats(outs.get("start_logits").asText(), DType.F32, shape, o.startLogits().toFloatArray());
                        w.addFloats(outs.get("end_logits").asText(), DType.F32, shape, o.endLogits().toFloatArray());
                    }
                    w.addFloats(outs.get("loss").asText(), DType.F32, new long[0],
                            new float[] {(float) o.loss().orElseThrow()});
                }
            }
        }
        w.write(caseDir.resolve(spec.path("write").asText()));
    }

    static int[][] ints2(SafetensorsFile f, String name, long[] shape) {
        long[] v = f.readLongs(name);
        int cols = (int) shape[1];
        int[][] m = new int[(int) shape[0]][cols];
        for (int i = 0; i < v.length; i++) {
            m[i / cols][i % cols] = (int) v[i];
        }
        return m;
    }

    @Test
    void outputsAndPanoptsRunFlagsDoNotMix() {
        assertEquals(2, check(FIXTURES.toString(), "--outputs", "/tmp", "--threads", "1").code());
        assertEquals(2, check(FIXTURES.toString(), "--outputs", "/nonexistent/outputs").code());
    }
}
