package dev.panopt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.DType;
import dev.panopt.Quantization;
import dev.panopt.checkpoint.CheckpointException;
import dev.panopt.checkpoint.GgufFile;
import dev.panopt.checkpoint.GgufType;
import dev.panopt.checkpoint.GgufWriter;
import dev.panopt.checkpoint.OptGguf;
import dev.panopt.checkpoint.TensorInfo;
import dev.panopt.tokenizer.OptTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GGUF interop with ggml itself: every kind of file Panopt writes (OPT conversions in every format, the generic
 * writer's every value type with a non-default alignment, the fuzz seeds, the bench's GPT-2 twins) is read by
 * ggml's {@code gguf_init_from_file} (through FFM, {@link GgmlGguf}) and by Panopt's {@link GgufFile}, and both
 * must list the same version, alignment, data offset, keys (type, element type, count, value) and tensors
 * (name, ggml type, dimensions, offset, size). Also checks {@link DType}'s ggml type ids against ggml's own
 * type table.
 */
class GgufInteropTest {
    static final Path FIXTURES = Path.of("../conformance/fixtures");
    static final Path SEEDS = Path.of("../java-api/src/test/resources/dev/panopt/checkpoint/GgufFuzzTestInputs/ggufFile");
    /** java-api's test tokenizer of 267 byte-level tokens: small enough for the 1000-token fixtures. */
    static final Path BYTE_TOKENIZER = Path.of("../java-api/src/test/resources/dev/panopt/byte-tokenizer");

    @TempDir
    Path dir;

    @Test
    void dtypeGgmlIdsAreGgmlsTypes() throws Throwable {
        int mapped = 0;
        for (DType d : DType.values()) {
            if (d.ggmlType().isPresent()) {
                int id = d.ggmlType().getAsInt();
                assertEquals(d.blockBytes(), GgmlGguf.typeSize(id), d + " bytes per block");
                assertEquals(d.blockSize(), GgmlGguf.blockSize(id), d + " elements per block");
                assertTrue(GgmlGguf.typeName(id).equalsIgnoreCase(d.name()), d + " is ggml's " + GgmlGguf.typeName(id));
                mapped++;
            }
        }
        assertEquals(18, mapped);
    }

    /** The file as Panopt's reader lists it, in {@link GgmlGguf}'s terms. */
    static GgmlGguf.Listing panopt(Path file) throws IOException {
        try (GgufFile g = GgufFile.open(file)) {
            List<GgmlGguf.Kv> kvs = new ArrayList<>();
            for (String key : g.keys()) {
                GgufType t = g.type(key).orElseThrow();
                if (t == GgufType.ARRAY) {
                    GgufType e = g.arrayType(key);
                    String v;
                    if (e == GgufType.STRING) {
                        v = String.join("\u0000", g.getStringArray(key));
                    } else {
                        List<String> s = new ArrayList<>();
                        switch (e) {
                            case BOOL -> {
                                for (boolean b : g.getBooleanArray(key)) {
                                    s.add(Boolean.toString(b));
                                }
                            }
                            case FLOAT32, FLOAT64 -> {
                                for (double x : g.getDoubleArray(key)) {
                                    s.add(e == GgufType.FLOAT32 ? Float.toString((float) x) : Double.toString(x));
                                }
                            }
                            default -> {
                                for (long x : g.getLongArray(key)) {
                                    s.add(Long.toString(x));
                                }
                            }
                        }
                        v = s.toString();
                    }
                    kvs.add(new GgmlGguf.Kv(key, t.id(), e.id(), g.arrayLength(key), v));
                } else {
                    kvs.add(new GgmlGguf.Kv(key, t.id(), -1, 1, scalar(g, key, t)));
                }
            }
            List<GgmlGguf.Tensor> tensors = new ArrayList<>();
            for (String name : g.tensorNames()) {
                TensorInfo t = g.tensor(name);
                long[] shape = t.shape();
                List<Long> ne = new ArrayList<>();
                for (int d = 0; d < 4; d++) {
                    ne.add(d < shape.length ? shape[shape.length - 1 - d] : 1L);
                }
                tensors.add(new GgmlGguf.Tensor(name, t.dtype().ggmlType().getAsInt(), ne, t.offset() - g.dataOffset(),
                        t.byteSize()));
            }
            return new GgmlGguf.Listing(g.version(), g.alignment(), g.dataOffset(), kvs, tensors);
        }
    }

    private static String scalar(GgufFile g, String key, GgufType t) throws CheckpointException {
        return switch (t) {
            case STRING -> g.getString(key);
            case BOOL -> Boolean.toString(g.getBoolean(key));
            case FLOAT32 -> Float.toString((float) g.getDouble(key));
            case FLOAT64 -> Double.toString(g.getDouble(key));
            default -> Long.toString(g.getLong(key));
        };
    }

    private static void sameListing(Path file) throws Throwable {
        GgmlGguf.Listing ggml = GgmlGguf.read(file);
        GgmlGguf.Listing ours = panopt(file);
        assertEquals(ggml.version(), ours.version(), file.toString());
        assertEquals(ggml.alignment(), ours.alignment(), file.toString());
        assertEquals(ggml.dataOffset(), ours.dataOffset(), file.toString());
        assertEquals(ggml.kvs(), ours.kvs(), file.toString());
        assertEquals(ggml.tensors(), ours.tensors(), file.toString());
        assertTrue(!ours.kvs().isEmpty(), file.toString());
    }

    @Test
    void ggmlReadsEveryOptConversionAsPanoptDoes() throws Throwable {
        OptTokenizer small = OptTokenizer.fromPretrained(BYTE_TOKENIZER);
        List<Path> files = new ArrayList<>();
        for (String c : List.of("preln-tiny", "postln-proj-tiny", "nobias-noaffine-tiny", "seqcls-multi", "qa")) {
            for (Quantization q : c.equals("preln-tiny") ? Quantization.presets() : List.of(Quantization.NONE)) {
                Path out = dir.resolve(c + "-" + q.name() + ".gguf");
                OptGguf.convert(FIXTURES.resolve("cases").resolve(c), out, q, small, (d, total) -> {});
                files.add(out);
            }
        }
        OptTokenizer opt = OptTokenizer.fromPretrained(FIXTURES.resolve("tokenizer"));
        for (Quantization q : List.of(Quantization.F16, Quantization.Q4_K_M, Quantization.Q5_K_M, Quantization.Q6_K,
                Quantization.Q4_1)) {
            Path out = dir.resolve("opt125m-shape-" + q.name() + ".gguf");
            OptGguf.convert(FIXTURES.resolve("cases/opt125m-shape-f16"), out, q, opt, (d, total) -> {});
            files.add(out);
        }
        for (Path f : files) {
            sameListing(f);
        }
    }

    @Test
    void ggmlReadsTheGenericWritersEveryValueType() throws Throwable {
        Path f = dir.resolve("every.gguf");
        GgufWriter w = new GgufWriter().putUInt32(GgufFile.ALIGNMENT_KEY, 64).putString("s", "Ġworld é 😀")
                .putBool("b", true).putFloat32("f32", -1.5e-7f).putFloat64("f64", Math.PI)
                .putStringArray("strings", List.of("a", "", "b c"))
                .putIntegerArray("i32s", GgufType.INT32, new long[] {Integer.MIN_VALUE, 0, 7})
                .putIntegerArray("u8s", GgufType.UINT8, new long[] {0, 255});
        long[][] ranges = {{0, 255}, {-128, 127}, {0, 65535}, {-32768, 32767}, {0, 0xffff_ffffL},
                {Integer.MIN_VALUE, Integer.MAX_VALUE}, {0, Long.MAX_VALUE}, {Long.MIN_VALUE, Long.MAX_VALUE}};
        GgufType[] ints = {GgufType.UINT8, GgufType.INT8, GgufType.UINT16, GgufType.INT16, GgufType.UINT32,
                GgufType.INT32, GgufType.UINT64, GgufType.INT64};
        for (int i = 0; i < ints.length; i++) {
            w.putInteger("min." + ints[i], ints[i], ranges[i][0]).putInteger("max." + ints[i], ints[i], ranges[i][1]);
        }
        int k = 0;
        for (DType d : DType.values()) {
            if (d.ggmlType().isPresent()) {
                long[] shape = {2, 3L * d.blockSize()};
                w.addTensor("t" + k++ + "." + d, d, shape, new byte[(int) d.bytes(shape[0] * shape[1])]);
            }
        }
        w.write(f);
        sameListing(f);
    }

    @Test
    void ggmlReadsTheFuzzSeedsAsPanoptDoes() throws Throwable {
        try (Stream<Path> s = Files.list(SEEDS)) {
            List<Path> seeds = s.filter(p -> p.getFileName().toString().startsWith("seed-")).sorted().toList();
            assertTrue(seeds.size() >= 3, seeds.toString());
            for (Path p : seeds) {
                sameListing(p);
            }
        }
    }

    @Test
    void panoptReadsTheBenchsGpt2TwinsAsGgmlDoes() throws Throwable {
        for (Ggml t : Ggml.values()) {
            if (t == Ggml.F32) {
                continue; // the suite writes twins in F16 and the block formats
            }
            Path twin = Checkpoints.gguf(ModelShape.TINY, t);
            sameListing(twin);
            try (GgufFile g = GgufFile.open(twin)) {
                assertEquals("gpt2", g.getString("general.architecture"));
                assertEquals(t.dtype, g.tensor("blk.0.ffn_up.weight").dtype());
                assertEquals(ModelShape.TINY.vocab(), g.getStringArray("tokenizer.ggml.tokens").size());
            }
        }
    }
}
