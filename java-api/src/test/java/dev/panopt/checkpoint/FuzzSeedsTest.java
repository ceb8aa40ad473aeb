package dev.panopt.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.OptConfig;
import dev.panopt.fuzz.Fuzz;
import dev.panopt.tokenizer.OptTokenizer;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The valid seeds of the fuzz corpora (see {@link FuzzSeeds}) really are valid, so fuzzing starts from deep inputs. */
class FuzzSeedsTest {
    private static List<Path> seeds(String testClass, String method) throws IOException, URISyntaxException {
        Path dir = Path.of(FuzzSeedsTest.class.getResource("/" + testClass.replace('.', '/') + "Inputs/" + method).toURI());
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("seed-")).sorted().toList();
        }
    }

    private static Path seed(String testClass, String method, String name) throws Exception {
        return seeds(testClass, method).stream().filter(p -> p.getFileName().toString().equals(name)).findFirst()
                .orElseThrow();
    }

    @Test
    void safetensorsSeedOpens() throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(seed("dev.panopt.checkpoint.SafetensorsFuzzTest", "safetensorsFile",
                "seed-mixed-dtypes"))) {
            assertEquals(8, f.names().size());
        }
    }

    @Test
    void pytorchSeedsOpen() throws Exception {
        for (Path p : seeds("dev.panopt.checkpoint.PyTorchZipFuzzTest", "pytorchZip")) {
            try (PyTorchZipFile f = PyTorchZipFile.open(p)) {
                assertEquals(3, f.names().size(), p.toString());
            }
        }
        for (Path p : seeds("dev.panopt.checkpoint.TorchPickleFuzzTest", "statePickle")) {
            assertFalse(TorchPickle.parseStateDict(p, "data.pkl", Files.readAllBytes(p)).isEmpty(), p.toString());
        }
    }

    @Test
    void ggufSeedsOpen() throws Exception {
        List<Path> seeds = seeds("dev.panopt.checkpoint.GgufFuzzTest", "ggufFile");
        assertEquals(4, seeds.size(), seeds.toString());
        for (Path p : seeds) {
            try (GgufFile g = GgufFile.open(p)) {
                GgufFuzzTest.check(g, java.nio.file.Files.size(p));
            }
            if (p.getFileName().toString().startsWith("seed-opt-")) {
                try (Checkpoint c = Checkpoint.open(p)) {
                    c.validateDecoder();
                }
                assertEquals(267, OptTokenizer.fromPretrained(p).vocabSize());
            }
        }
    }

    @Test
    void configSeedsLoad() throws Exception {
        for (Path p : seeds("dev.panopt.fuzz.ConfigFuzzTest", "configJson")) {
            OptConfig.load(p);
        }
    }

    @Test
    void checkpointDirectorySeedsAreCompleteCheckpoints() throws Exception {
        List<Path> all = seeds("dev.panopt.fuzz.CheckpointDirectoryFuzzTest", "checkpointDirectory");
        assertEquals(4, all.size());
        for (Path p : all) {
            try (Checkpoint c = Checkpoint.open(Fuzz.directory(Files.readAllBytes(p)))) {
                c.validateDecoder();
                assertTrue(c.parameterCount() > 0, p.toString());
            }
        }
    }

    @Test
    void vocabSeedsTakeTheScannersFastPath() throws Exception {
        for (Path p : seeds("dev.panopt.tokenizer.VocabScannerFuzzTest", "vocabJson")) {
            assertTrue(dev.panopt.tokenizer.VocabScannerAccess.scans(Files.readString(p)), p.toString());
        }
    }

    @Test
    void tokenizerSeedsLoadAndRoundTrip() throws Exception {
        List<Path> all = seeds("dev.panopt.fuzz.TokenizerFilesFuzzTest", "tokenizerDirectory");
        assertEquals(3, all.size());
        for (Path p : all) {
            OptTokenizer t = OptTokenizer.fromPretrained(Fuzz.directory(Files.readAllBytes(p)));
            assertEquals("the world", t.decode(t.encode("the world", false)), p.toString());
        }
    }
}
