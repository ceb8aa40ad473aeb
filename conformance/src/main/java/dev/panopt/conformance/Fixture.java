package dev.panopt.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.panopt.DType;
import dev.panopt.checkpoint.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** One case folder: case.json plus expected.safetensors (inputs, derived and expected tensors). */
final class Fixture implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    final Path dir;
    /** The checkpoint the case's model is loaded from: the case folder, or another form of its weights (a GGUF file). */
    final Path model;
    final String name;
    final JsonNode caseJson;
    final SafetensorsFile expected;

    private Fixture(Path dir, Path model, JsonNode caseJson, SafetensorsFile expected) {
        this.dir = dir;
        this.model = model;
        this.name = dir.getFileName().toString();
        this.caseJson = caseJson;
        this.expected = expected;
    }

    static Fixture open(Path dir) throws IOException {
        return open(dir, dir);
    }

    /** The case in {@code dir}, its model loaded from {@code model}. */
    static Fixture open(Path dir, Path model) throws IOException {
        Path cj = dir.resolve("case.json");
        if (!Files.isRegularFile(cj)) {
            throw new IOException("no case.json in " + dir);
        }
        JsonNode node = JSON.readTree(cj.toFile());
        String exp = node.path("files").path("expected").asText("expected.safetensors");
        return new Fixture(dir, model, node, SafetensorsFile.open(dir.resolve(exp)));
    }

    /**
     * A stored tensor as case.json describes it: its role ({@code input}, {@code derived} or
     * {@code expected}), for an expected one the id of the call that produces it, and case.json's note.
     */
    record Stored(String name, String role, String call, String note) {}

    /**
     * Every tensor of expected.safetensors with its role: from case.json's {@code tensors} list when it
     * has one, else every tensor a call's outputs name is expected and the rest are inputs.
     */
    java.util.List<Stored> stored() {
        java.util.Map<String, String> callOf = new java.util.HashMap<>();
        for (JsonNode call : caseJson.path("calls")) {
            String id = call.path("id").asText();
            call.path("outputs").fields().forEachRemaining(e -> {
                // An output is named by its value ("logits", "logits (pooled, ...)", lists of names), or,
                // when the value is an expression of other tensors ("logits[0:1]"), by its key.
                java.util.List<String> named = CaseRunner.expectedNames(e.getValue()).stream().filter(this::has).toList();
                if (named.isEmpty() && has(e.getKey())) {
                    named = java.util.List.of(e.getKey());
                }
                named.forEach(n -> callOf.putIfAbsent(n, id));
            });
        }
        java.util.List<Stored> out = new java.util.ArrayList<>();
        JsonNode listed = caseJson.path("tensors");
        if (listed.isArray() && !listed.isEmpty()) {
            for (JsonNode t : listed) {
                String n = t.path("name").asText();
                if (has(n)) {
                    out.add(new Stored(n, t.path("role").asText("input"), callOf.get(n), t.path("note").asText(null)));
                }
            }
        } else {
            for (String n : expected.names()) {
                out.add(new Stored(n, callOf.containsKey(n) ? "expected" : "input", callOf.get(n), null));
            }
        }
        return out;
    }

    String modelClass() {
        return caseJson.path("model_class").asText();
    }

    boolean has(String tensor) {
        return expected.find(tensor).isPresent();
    }

    long[] shape(String tensor) {
        return expected.info(tensor).shape();
    }

    boolean isInteger(String tensor) {
        return !expected.info(tensor).dtype().isFloatingPoint();
    }

    DType dtype(String tensor) {
        return expected.info(tensor).dtype();
    }

    float[] floats(String tensor) {
        return expected.readFloats(tensor);
    }

    long[] longs(String tensor) {
        return expected.readLongs(tensor);
    }

    /** A 2-D integer tensor as int[rows][cols]. */
    int[][] ints2(String tensor) {
        long[] s = shape(tensor);
        long[] v = longs(tensor);
        int rows = (int) s[0];
        int cols = (int) s[1];
        int[][] m = new int[rows][cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                m[r][c] = Math.toIntExact(v[r * cols + c]);
            }
        }
        return m;
    }

    /** A 2-D float tensor as float[rows][cols]. */
    float[][] floats2(String tensor) {
        long[] s = shape(tensor);
        float[] v = floats(tensor);
        int rows = (int) s[0];
        int cols = (int) s[1];
        float[][] m = new float[rows][cols];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(v, r * cols, m[r], 0, cols);
        }
        return m;
    }

    /** A 3-D float tensor as float[a][b][c]. */
    float[][][] floats3(String tensor) {
        long[] s = shape(tensor);
        float[] v = floats(tensor);
        int a = (int) s[0];
        int b = (int) s[1];
        int c = (int) s[2];
        float[][][] m = new float[a][b][c];
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                System.arraycopy(v, (i * b + j) * c, m[i][j], 0, c);
            }
        }
        return m;
    }

    @Override
    public void close() throws IOException {
        expected.close();
    }
}
