package dev.panopt.spark;

import dev.panopt.DType;
import dev.panopt.OptConfig;
import dev.panopt.checkpoint.SafetensorsFile;
import dev.panopt.checkpoint.SafetensorsWriter;
import dev.panopt.checkpoint.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Checkpoint directories for the tests, made from a base causal-LM checkpoint (by default the
 * repository's {@code opt125m-shape-f16} fixture: OPT-125m's vocabulary, so real text runs through
 * it) with OPT's tokenizer beside it: the LM itself, and the same decoder with a classification or
 * question-answering head of seeded N(0, 0.02²) weights written as a trained checkpoint holds it.
 * The tests cut the context to {@link #CONTEXT} positions (the first rows of the position table),
 * so that inputs too long for the model are short enough to test quickly.
 */
final class TestModels {
    static final Path FIXTURES = Path.of(System.getProperty("panopt.fixtures", "../conformance/fixtures")).toAbsolutePath();
    static final Path BASE = FIXTURES.resolve("cases/opt125m-shape-f16");
    static final Path TOKENIZER = FIXTURES.resolve("tokenizer");
    static final List<String> LABELS = List.of("negative", "neutral", "positive");
    /** max_position_embeddings of the test checkpoints. */
    static final int CONTEXT = 128;
    /** OPT's learned positions start at row 2 of the table (HF's offset). */
    private static final int POSITION_OFFSET = 2;

    private TestModels() {}

    /** The fixture's causal LM, cut to {@link #CONTEXT} positions, with its tokenizer files. */
    static Path causalLm(Path root) throws IOException {
        return causalLm(BASE, root.resolve("lm"), CONTEXT);
    }

    /** The fixture's decoder with a three-label {@code score} head, cut to {@link #CONTEXT} positions. */
    static Path classifier(Path root) throws IOException {
        return classifier(BASE, root.resolve("classifier"), CONTEXT);
    }

    /** The fixture's decoder with a {@code qa_outputs} head (start and end logits), cut to {@link #CONTEXT} positions. */
    static Path questionAnswering(Path root) throws IOException {
        OptConfig c = OptConfig.load(BASE).toBuilder().maxPositionEmbeddings(CONTEXT)
                .architectures(List.of("OPTForQuestionAnswering")).build();
        return withHead(BASE, root.resolve("qa"), c, Map.of("qa_outputs.weight", new long[] {2, c.hiddenSize()},
                "qa_outputs.bias", new long[] {2}), 12);
    }

    /** {@code base}'s causal LM with {@code context} positions in {@code dir}. */
    static Path causalLm(Path base, Path dir, int context) throws IOException {
        return withHead(base, dir, OptConfig.load(base).toBuilder().maxPositionEmbeddings(context).build(), Map.of(), 10);
    }

    /** {@code base}'s decoder with a three-label {@code score} head and {@code context} positions in {@code dir}. */
    static Path classifier(Path base, Path dir, int context) throws IOException {
        OptConfig c = OptConfig.load(base).toBuilder().maxPositionEmbeddings(context)
                .architectures(List.of("OPTForSequenceClassification"))
                .id2label(Map.of(0, LABELS.get(0), 1, LABELS.get(1), 2, LABELS.get(2)))
                .problemType("single_label_classification").build();
        return withHead(base, dir, c, Map.of("score.weight", new long[] {3, c.wordEmbedProjDim()}), 11);
    }

    private static Path withHead(Path base, Path dir, OptConfig config, Map<String, long[]> head, long seed)
            throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), config.toJson());
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        try (SafetensorsFile weights = SafetensorsFile.open(base.resolve("model.safetensors"))) {
            for (String name : weights.names()) {
                TensorInfo t = weights.info(name);
                if (name.endsWith("embed_positions.weight")) {
                    long rows = config.maxPositionEmbeddings() + POSITION_OFFSET;
                    long rowBytes = t.byteSize() / t.shape()[0];
                    w.add(name, t.dtype(), new long[] {rows, t.shape()[1]}, weights.data(name).asSlice(0, rowBytes * rows));
                } else {
                    w.add(name, t.dtype(), t.shape(), weights.data(name));
                }
            }
            SplittableRandom r = new SplittableRandom(seed);
            for (Map.Entry<String, long[]> e : new TreeMap<>(head).entrySet()) {
                float[] v = new float[Math.toIntExact(TensorInfo.numel(e.getValue()))];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (r.nextGaussian() * 0.02);
                }
                w.addFloats(e.getKey(), DType.F32, e.getValue(), v);
            }
            w.write(dir.resolve("model.safetensors"));
        }
        Files.copy(TOKENIZER.resolve("vocab.json"), dir.resolve("vocab.json"));
        Files.copy(TOKENIZER.resolve("merges.txt"), dir.resolve("merges.txt"));
        return dir;
    }
}
