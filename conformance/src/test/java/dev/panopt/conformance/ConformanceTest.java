package dev.panopt.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.Isa;
import dev.panopt.Panopt;
import dev.panopt.Backend;
import dev.panopt.BackendOptions;
import dev.panopt.Device;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every case of the bundled fixture set (a copy of shared/conformance), under every kernel ISA this
 * machine has and with 1 and 2 threads, and on the first CUDA device where there is one (skipped,
 * with the reason, where there is none): nothing may fail, and the cases this build covers must
 * have all their listed tensors checked, within the same tolerances.
 */
class ConformanceTest {
    static final Path FIXTURES = Path.of(System.getProperty("panopt.fixtures", "fixtures"));

    /** Cases whose every stored output this build must check (nothing skipped). */
    static final Set<String> FULLY_COVERED = Set.of("preln-tiny", "postln-proj-tiny", "nobias-noaffine-tiny",
            "remove-final-ln-tiny", "opt125m-shape-f16", "head-mask", "inputs-embeds", "qa", "seqcls-single",
            "seqcls-multi", "seqcls-regression");

    static List<Path> cases() throws IOException {
        try (Stream<Path> s = Files.list(FIXTURES.resolve("cases"))) {
            return s.filter(Files::isDirectory).sorted().toList();
        }
    }

    @TestFactory
    Stream<DynamicTest> everyCaseEveryIsa() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Isa isa : Panopt.availableIsas()) {
            for (int threads : new int[] {1, 2}) {
                BackendOptions opts = BackendOptions.builder().isa(isa).threads(threads).build();
                for (Path c : cases()) {
                    String name = c.getFileName().toString();
                    tests.add(DynamicTest.dynamicTest(name + " " + isa + " x" + threads, () -> check(opts, c, name)));
                }
            }
        }
        return tests.stream();
    }

    /** Every case on cuda:0, through the same runner and tolerances; one skipped test saying why without a GPU. */
    @TestFactory
    Stream<DynamicTest> everyCaseOnCuda() throws IOException {
        BackendOptions opts = BackendOptions.builder().device(Device.cuda(0)).build();
        try {
            Backend.create(opts).close();
        } catch (UnsupportedOperationException e) {
            return Stream.of(DynamicTest.dynamicTest("every case on cuda:0",
                    () -> Assumptions.abort("SKIPPED (no usable CUDA device): " + e.getMessage())));
        }
        List<DynamicTest> tests = new ArrayList<>();
        for (Path c : cases()) {
            String name = c.getFileName().toString();
            tests.add(DynamicTest.dynamicTest(name + " cuda:0", () -> check(opts, c, name)));
        }
        return tests.stream();
    }

    private static void check(BackendOptions opts, Path caseDir, String name) {
        CaseResult r;
        try (Backend backend = Backend.create(opts)) {
            r = new CaseRunner(backend).run(caseDir);
        }
        String failures = r.tensors().stream().filter(t -> !t.pass())
                .map(t -> t.call() + "/" + t.name() + " max_abs " + t.maxAbs() + " " + t.firstFailure())
                .collect(Collectors.joining("\n"));
        assertTrue(r.status() != CaseResult.Status.FAIL, () -> name + " failed: " + r.reason() + "\n" + failures);
        if (FULLY_COVERED.contains(name)) {
            assertEquals(CaseResult.Status.PASS, r.status(), () -> name + ": " + r.reason());
            assertTrue(r.skippedTensors().isEmpty(), () -> name + " skipped " + r.skippedTensors());
        }
    }

    /** Every tensor case.json marks as expected is compared for the covered cases (guards the runner itself). */
    @Test
    void coveredCasesCompareEveryExpectedTensor() throws IOException {
        for (Path c : cases()) {
            String name = c.getFileName().toString();
            if (!FULLY_COVERED.contains(name)) {
                continue;
            }
            CaseResult r = new CaseRunner(Backend.shared()).run(c);
            Set<String> compared = r.tensors().stream().map(Compare.TensorResult::name).collect(Collectors.toSet());
            try (Fixture f = Fixture.open(c)) {
                int expected = 0;
                for (var t : f.caseJson.get("tensors")) {
                    if (t.path("role").asText().equals("expected")) {
                        String n = t.path("name").asText();
                        expected++;
                        assertTrue(compared.contains(n), name + ": expected tensor " + n + " was not compared");
                    }
                }
                assertTrue(expected > 0, name + " lists no expected tensors");
            }
        }
    }

    /** A corrupted expectation must be caught: the comparison can fail. */
    @Test
    void comparisonDetectsAWrongValue() {
        Compare.TensorResult ok = Compare.compare("c", "logits", new long[] {2}, new double[] {1.0, 2.0},
                new double[] {1.0, 2.0}, Compare.Tolerance.FLOAT32);
        Compare.TensorResult bad = Compare.compare("c", "logits", new long[] {2}, new double[] {1.0, 2.01},
                new double[] {1.0, 2.0}, Compare.Tolerance.FLOAT32);
        assertTrue(ok.pass());
        assertFalse(bad.pass());
        assertEquals(1, bad.failures());
    }

    @Test
    void checkerExitsNonZeroOnBadUsage() {
        var sink = new java.io.PrintStream(java.io.OutputStream.nullOutputStream());
        assertEquals(2, Check.run(new String[] {}, sink, sink));
        assertEquals(2, Check.run(new String[] {"/nonexistent/dir"}, sink, sink));
        assertEquals(2, Check.run(new String[] {FIXTURES.toString(), "--bogus"}, sink, sink));
    }
}
