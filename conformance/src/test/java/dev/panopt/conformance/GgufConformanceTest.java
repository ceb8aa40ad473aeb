package dev.panopt.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.panopt.Backend;
import dev.panopt.DType;
import dev.panopt.Quantization;
import dev.panopt.checkpoint.Checkpoint;
import dev.panopt.checkpoint.OptGguf;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every case converted to GGUF gives the conformance results of its source checkpoint: in F32 (lossless for the
 * F32 and F16 sources) and, for an F16 source, in F16 too. Where the file holds exactly the source's bytes (same
 * type) every compared tensor's error is the source's, bit for bit; otherwise (F16 stored as F32) the case must
 * pass as the source does.
 */
class GgufConformanceTest {
    @TempDir
    static Path dir;

    @TestFactory
    Stream<DynamicTest> everyCaseAsGguf() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Path c : ConformanceTest.cases()) {
            String name = c.getFileName().toString();
            DType source;
            try (Checkpoint ck = Checkpoint.open(c)) {
                source = ck.find("decoder.embed_tokens.weight").orElseThrow().dtype();
            }
            List<Quantization> formats = source == DType.F32 ? List.of(Quantization.F32)
                    : List.of(Quantization.F32, Quantization.named(source.name()));
            for (Quantization f : formats) {
                tests.add(DynamicTest.dynamicTest(name + " " + f.name(), () -> check(c, name, f,
                        f.name().equals(source.name()))));
            }
        }
        return tests.stream();
    }

    private static void check(Path caseDir, String name, Quantization format, boolean sameBytes) throws IOException {
        Path gguf = dir.resolve(name + "-" + format.name() + ".gguf");
        OptGguf.convert(caseDir, gguf, format, null, (d, t) -> {});
        CaseRunner runner = new CaseRunner(Backend.shared());
        CaseResult fromSource = runner.run(caseDir);
        CaseResult fromGguf = runner.run(caseDir, gguf);
        assertEquals(fromSource.status(), fromGguf.status(), name + ": " + fromGguf.reason());
        assertEquals(fromSource.skippedTensors(), fromGguf.skippedTensors(), name);
        assertEquals(fromSource.tensors().size(), fromGguf.tensors().size(), name);
        for (int i = 0; i < fromSource.tensors().size(); i++) {
            Compare.TensorResult a = fromSource.tensors().get(i);
            Compare.TensorResult b = fromGguf.tensors().get(i);
            assertEquals(a.call() + "/" + a.name(), b.call() + "/" + b.name(), name);
            assertEquals(a.pass(), b.pass(), name + " " + b.call() + "/" + b.name() + ": " + b.firstFailure());
            if (sameBytes) {
                assertEquals(a.maxAbs(), b.maxAbs(), name + " " + b.call() + "/" + b.name() + " (same weights)");
                assertEquals(a.relL2(), b.relL2(), name + " " + b.call() + "/" + b.name() + " (same weights)");
            }
        }
    }
}
