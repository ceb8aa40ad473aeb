package dev.panopt.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.panopt.CausalLMOutput;
import dev.panopt.DType;
import dev.panopt.OptForCausalLM;
import dev.panopt.checkpoint.TorchZipWriter.T;
import dev.panopt.internal.Json;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PyTorch {@code pytorch_model.bin} checkpoints through {@link Checkpoint} and the model API: the shared
 * real torch file against its safetensors twin, Java-written round trips, sharded indexes, precedence.
 */
class PyTorchCheckpointTest {
    static final String REAL_CASE = "opt125m-shape-f16";
    static final Path FIXTURES = Path.of(System.getProperty("panopt.fixtures", "../conformance/fixtures"))
            .resolve("cases");
    static final int[][] IDS = {{2, 31414, 232, 328, 4, 10, 20}, {2, 50, 60, 1, 1, 1, 1}};
    static final int[][] MASK = {{1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 0, 0, 0, 0}};

    @TempDir
    Path dir;

    /** The shared directory's real {@code torch.save} file; absent on machines without /work/shared. */
    static Path sharedCase() {
        String shared = System.getProperty("panopt.shared.dir", "../../shared");
        return Path.of(shared, "conformance", "cases", REAL_CASE).toAbsolutePath().normalize();
    }

    static Path sharedBinOrSkip() {
        Path bin = sharedCase().resolve("pytorch_model.bin");
        assumeTrue(Files.isRegularFile(bin), "shared torch checkpoint " + bin + " is absent; skipping (set"
                + " -Dpanopt.shared.dir to the shared directory to run this)");
        return bin;
    }

    /** The safetensors twin: the repository fixture, else the copy next to the shared .bin. */
    static Path safetensorsCase() {
        Path repo = FIXTURES.resolve(REAL_CASE);
        return Files.isRegularFile(repo.resolve("model.safetensors")) ? repo : sharedCase();
    }

    /** A directory holding config.json and a link to (or copy of) {@code bin} as pytorch_model.bin. */
    static Path binDir(Path target, Path config, Path bin) throws IOException {
        Files.copy(config, target.resolve("config.json"));
        try {
            Files.createSymbolicLink(target.resolve("pytorch_model.bin"), bin.toAbsolutePath());
        } catch (UnsupportedOperationException | IOException e) {
            Files.copy(bin, target.resolve("pytorch_model.bin"));
        }
        return target;
    }

    static void assertSameTensors(Checkpoint expected, Checkpoint actual) {
        assertEquals(expected.names(), actual.names());
        for (String n : expected.names()) {
            Checkpoint.CheckpointTensor e = expected.find(n).orElseThrow();
            Checkpoint.CheckpointTensor a = actual.find(n).orElseThrow();
            assertEquals(e.dtype(), a.dtype(), n);
            assertArrayEquals(e.shape(), a.shape(), n);
            assertEquals(e.data().byteSize(), a.data().byteSize(), n);
            assertEquals(-1L, e.data().mismatch(a.data()), n + ": bytes differ");
        }
    }

    static float[] logits(Path directory) throws IOException {
        try (OptForCausalLM m = OptForCausalLM.fromPretrained(directory);
             CausalLMOutput out = m.forward(IDS, MASK)) {
            return out.logits().toFloatArray();
        }
    }

    // ------------------------------------------------------------------ the real torch file

    @Test
    void realTorchFileEqualsItsSafetensorsTwinByteForByte() throws IOException {
        Path bin = sharedBinOrSkip();
        Path d = binDir(dir, sharedCase().resolve("config.json"), bin);
        try (Checkpoint pt = Checkpoint.open(d); Checkpoint st = Checkpoint.open(safetensorsCase())) {
            pt.validateDecoder();
            assertTrue(pt.names().contains("decoder.layers.0.fc1.weight"));
            assertEquals(DType.F16, pt.find("decoder.embed_tokens.weight").orElseThrow().dtype());
            assertArrayEquals(new long[] {50272, 256}, pt.find("decoder.embed_tokens.weight").orElseThrow().shape());
            assertSameTensors(st, pt);
            assertEquals(st.parameterCount(), pt.parameterCount());
        }
    }

    @Test
    void realTorchFileGivesTheSameLogitsAsSafetensors() throws IOException {
        Path bin = sharedBinOrSkip();
        Path d = binDir(dir, sharedCase().resolve("config.json"), bin);
        float[] fromBin = logits(d);
        float[] fromSafetensors = logits(safetensorsCase());
        assertEquals(2 * 7 * 50272, fromBin.length);
        assertArrayEquals(fromSafetensors, fromBin, 0f, "same weights must give identical floats");
    }

    // ------------------------------------------------------------------ Java-written torch files

    /** Writes {@code src}'s tensors (names as stored) as a torch zip, one storage per tensor. */
    static void convert(SafetensorsFile src, List<String> names, Path out, String top, boolean zip64)
            throws IOException {
        List<T> ts = new ArrayList<>();
        Map<String, byte[]> storages = new LinkedHashMap<>();
        for (String n : names) {
            TensorInfo info = src.info(n);
            String key = Integer.toString(storages.size());
            ts.add(T.dense(n, storageType(info.dtype()), key, info.shape()));
            storages.put(key, src.data(n).toArray(ValueLayout.JAVA_BYTE));
        }
        TorchZipWriter.write(out, top, ts, storages, zip64);
    }

    static String storageType(DType d) {
        return switch (d) {
            case F16 -> "HalfStorage";
            case F32 -> "FloatStorage";
            case BF16 -> "BFloat16Storage";
            case F64 -> "DoubleStorage";
            case I64 -> "LongStorage";
            case I32 -> "IntStorage";
            case I16 -> "ShortStorage";
            case I8 -> "CharStorage";
            case U8 -> "ByteStorage";
            case BOOL -> "BoolStorage";
            default -> throw new IllegalArgumentException(d + " has no torch storage");
        };
    }

    @Test
    void javaWrittenTorchFileRoundTripsThroughCheckpointAndModel() throws IOException {
        Path fixture = FIXTURES.resolve("preln-tiny");
        Path d = Files.createDirectories(dir.resolve("bin"));
        Files.copy(fixture.resolve("config.json"), d.resolve("config.json"));
        try (SafetensorsFile st = SafetensorsFile.open(fixture.resolve("model.safetensors"))) {
            // Stored with the "model." prefix, as a state dict of OPTForCausalLM would be.
            convert(st, List.copyOf(st.names()), d.resolve("pytorch_model.bin"), "archive", false);
        }
        try (Checkpoint pt = Checkpoint.open(d); Checkpoint ref = Checkpoint.open(fixture)) {
            pt.validateDecoder();
            assertSameTensors(ref, pt);
        }
        int[][] ids = {{2, 10, 20, 30, 40}, {1, 1, 2, 50, 60}};
        int[][] mask = {{1, 1, 1, 1, 1}, {0, 0, 1, 1, 1}};
        try (OptForCausalLM a = OptForCausalLM.fromPretrained(d);
             OptForCausalLM b = OptForCausalLM.fromPretrained(fixture);
             CausalLMOutput oa = a.forward(ids, mask); CausalLMOutput ob = b.forward(ids, mask)) {
            assertArrayEquals(ob.logits().toFloatArray(), oa.logits().toFloatArray(), 0f);
        }
    }

    @Test
    void shardedBinIndexLoads() throws IOException {
        Path fixture = FIXTURES.resolve("preln-tiny");
        Path d = Files.createDirectories(dir.resolve("sharded"));
        Files.copy(fixture.resolve("config.json"), d.resolve("config.json"));
        Map<String, Object> weightMap = new LinkedHashMap<>();
        try (SafetensorsFile st = SafetensorsFile.open(fixture.resolve("model.safetensors"))) {
            List<String> names = List.copyOf(st.names());
            List<String> first = names.subList(0, names.size() / 2);
            List<String> second = names.subList(names.size() / 2, names.size());
            convert(st, first, d.resolve("pytorch_model-00001-of-00002.bin"), "pytorch_model-00001-of-00002", false);
            convert(st, second, d.resolve("pytorch_model-00002-of-00002.bin"), "archive", true);
            first.forEach(n -> weightMap.put(n, "pytorch_model-00001-of-00002.bin"));
            second.forEach(n -> weightMap.put(n, "pytorch_model-00002-of-00002.bin"));
        }
        Files.writeString(d.resolve("pytorch_model.bin.index.json"),
                Json.write(Map.of("metadata", Map.of("total_size", 0L), "weight_map", weightMap)));
        try (Checkpoint pt = Checkpoint.open(d); Checkpoint ref = Checkpoint.open(fixture)) {
            pt.validateDecoder();
            assertSameTensors(ref, pt);
            assertTrue(pt.toString().contains("2 file(s)"), pt.toString());
        }
        // A shard name that leaves the directory is refused before anything is opened.
        weightMap.put(weightMap.keySet().iterator().next(), "../pytorch_model-00001-of-00002.bin");
        Files.writeString(d.resolve("pytorch_model.bin.index.json"), Json.write(Map.of("weight_map", weightMap)));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.open(d).close());
        assertTrue(e.getMessage().contains("must be a plain file name inside the checkpoint directory"), e.getMessage());
        // A tensor listed for a shard that does not hold it.
        weightMap.clear();
        weightMap.put("model.decoder.embed_tokens.weight", "pytorch_model-00002-of-00002.bin");
        Files.writeString(d.resolve("pytorch_model.bin.index.json"), Json.write(Map.of("weight_map", weightMap)));
        e = assertThrows(CheckpointException.class, () -> Checkpoint.open(d).close());
        assertTrue(e.getMessage().contains("not present in this shard"), e.getMessage());
    }

    @Test
    void safetensorsIsPreferredWhenBothExist() throws IOException {
        Path fixture = FIXTURES.resolve("preln-tiny");
        Files.copy(fixture.resolve("config.json"), dir.resolve("config.json"));
        Files.copy(fixture.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        Files.write(dir.resolve("pytorch_model.bin"), new byte[] {'n', 'o', 't', ' ', 'z', 'i', 'p'});
        try (Checkpoint cp = Checkpoint.open(dir); Checkpoint ref = Checkpoint.open(fixture)) {
            assertSameTensors(ref, cp);
            assertTrue(cp.find("decoder.embed_tokens.weight").orElseThrow().file().endsWith("model.safetensors"));
        }
    }

    @Test
    void malformedBinFailsWithACheckpointExceptionNamingIt() throws IOException {
        Files.copy(FIXTURES.resolve("preln-tiny/config.json"), dir.resolve("config.json"));
        Files.write(dir.resolve("pytorch_model.bin"), new byte[] {'P', 'K'});
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.open(dir).close());
        assertTrue(e.getMessage().startsWith(dir.resolve("pytorch_model.bin") + ": zip: "), e.getMessage());
        // Through the model API too.
        IOException m = assertThrows(IOException.class, () -> OptForCausalLM.fromPretrained(dir).close());
        assertInstanceOf(CheckpointException.class, m);
        // A valid torch file whose tensors do not fit the config is reported like safetensors would be.
        List<T> ts = List.of(T.dense("decoder.embed_tokens.weight", "FloatStorage", "0", 3, 2));
        TorchZipWriter.write(dir.resolve("pytorch_model.bin"), "archive", ts, Map.of("0", new byte[24]), false);
        try (Checkpoint cp = Checkpoint.open(dir)) {
            CheckpointException v = assertThrows(CheckpointException.class, cp::validateDecoder);
            assertTrue(v.getMessage().contains("pytorch_model.bin"), v.getMessage());
        }
        try (PyTorchZipFile f = PyTorchZipFile.open(dir.resolve("pytorch_model.bin"))) {
            assertEquals(List.of("decoder.embed_tokens.weight"), List.copyOf(f.names()));
        }
    }
}
