package dev.panopt.conformance;

import dev.panopt.checkpoint.SafetensorsFile;
import dev.panopt.checkpoint.TensorInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The other direction of the checker: compares the outputs another implementation wrote for a case
 * ({@code OUTPUTS/cases/<name>/outputs.safetensors}, tensors named as the reference names them) with
 * the reference, with the same tolerances and report as Panopt's own run. Every expected tensor is
 * compared, or listed as skipped when the file lacks it; a derived tensor is compared when present;
 * a tensor the reference does not have is listed as skipped (ignored). Stateless.
 */
final class OutputsComparer {
    private OutputsComparer() {}

    static CaseResult compare(Path caseDir, Path outputsDir) {
        String name = caseDir.getFileName().toString();
        Path file = outputsDir.resolve("cases").resolve(name).resolve(OutputTensors.FILE);
        try (Fixture f = Fixture.open(caseDir)) {
            if (!Files.isRegularFile(file)) {
                return CaseResult.skipped(name, "no " + outputsDir.relativize(file) + " in the outputs");
            }
            try (SafetensorsFile got = SafetensorsFile.open(file)) {
                return compare(f, got);
            }
        } catch (Exception | OutOfMemoryError e) {
            return CaseResult.of(name, List.of(), List.of(), Compare.describe(e));
        }
    }

    private static CaseResult compare(Fixture f, SafetensorsFile got) {
        List<Compare.TensorResult> results = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        Set<String> known = new HashSet<>();
        for (Fixture.Stored s : f.stored()) {
            known.add(s.name());
            boolean expected = s.role().equals("expected");
            if (!expected && !s.role().equals("derived")) {
                continue;
            }
            String call = s.call() != null ? s.call() : s.role();
            if (got.find(s.name()).isEmpty()) {
                if (expected) {
                    skipped.add(call + "/" + s.name() + ": not in " + OutputTensors.FILE);
                }
                continue;
            }
            results.add(tensor(f, got, call, s.name()));
        }
        for (String n : got.names()) {
            if (!known.contains(n)) {
                skipped.add(n + ": not a tensor of this case's reference (ignored)");
            }
        }
        return CaseResult.of(f.name, results, skipped, null);
    }

    private static Compare.TensorResult tensor(Fixture f, SafetensorsFile got, String call, String name) {
        long[] shape = f.shape(name);
        boolean integer = f.isInteger(name);
        Compare.Tolerance tol = Compare.toleranceFor(name, integer);
        TensorInfo g = got.info(name);
        if (!Arrays.equals(shape, g.shape())) {
            return failed(call, name, shape, tol, "shape " + Arrays.toString(g.shape()) + " instead of " + Arrays.toString(shape));
        }
        if (g.dtype().isFloatingPoint() == integer) {
            return failed(call, name, shape, tol, "dtype " + g.dtype() + ", expected " + (integer ? "an integer"
                    : "a floating-point") + " tensor like the reference's " + f.dtype(name));
        }
        double[] values = integer ? Compare.toDouble(got.readLongs(name)) : Compare.toDouble(got.readFloats(name));
        double[] reference = integer ? Compare.toDouble(f.longs(name)) : Compare.toDouble(f.floats(name));
        return Compare.compare(call, name, shape, values, reference, tol);
    }

    private static Compare.TensorResult failed(String call, String name, long[] shape, Compare.Tolerance tol, String why) {
        return new Compare.TensorResult(call, name, shape, Double.NaN, Double.NaN, tol, 1, why);
    }
}
