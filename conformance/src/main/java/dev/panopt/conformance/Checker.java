package dev.panopt.conformance;

import dev.panopt.Backend;
import dev.panopt.DType;
import dev.panopt.BackendOptions;
import dev.panopt.Nullable;
import dev.panopt.Quantization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Runs a fixture set: a folder holding {@code cases/<name>/} (each with case.json, config.json,
 * weights and expected.safetensors) and optionally {@code tokenizer/}; or compares the outputs
 * another implementation wrote for it ({@link #compareOutputs}). Thread-confined.
 */
public final class Checker {
    private final BackendOptions backendOptions;
    private final Quantization quantization;
    private final DType computeType;

    /** @param backendOptions threads and ISA of the backend the cases run on */
    public Checker(BackendOptions backendOptions) {
        this(backendOptions, Quantization.NONE);
    }

    /**
     * @param backendOptions threads and ISA of the backend the cases run on
     * @param quantization   how the models' weights are stored ({@link CaseRunner} says what is compared then)
     */
    public Checker(BackendOptions backendOptions, Quantization quantization) {
        this(backendOptions, quantization, DType.F32);
    }

    /**
     * @param backendOptions threads and ISA of the backend the cases run on
     * @param quantization   how the models' weights are stored ({@link CaseRunner} says what is compared then)
     * @param computeType    the sessions' compute type: F32, or BF16 (bf16 products in prompts; judged
     *                       as quantized weights are)
     */
    public Checker(BackendOptions backendOptions, Quantization quantization, DType computeType) {
        this.backendOptions = backendOptions;
        this.quantization = quantization;
        this.computeType = computeType;
    }

    /** Runs every case (or only {@code only}, when not empty). */
    public List<CaseResult> run(Path fixtureSet, Set<String> only) throws IOException {
        return run(fixtureSet, only, null);
    }

    /**
     * Runs every case (or only {@code only}, when not empty); with {@code writeOutputs}, also writes
     * what each case computed there in the outputs protocol's layout (see conformance/README.md).
     */
    public List<CaseResult> run(Path fixtureSet, Set<String> only, @Nullable Path writeOutputs) throws IOException {
        List<Path> dirs = caseDirs(fixtureSet, only);
        List<CaseResult> results = new ArrayList<>();
        try (Backend backend = Backend.create(backendOptions)) {
            CaseRunner runner = new CaseRunner(backend, quantization, computeType, writeOutputs);
            for (Path d : dirs) {
                results.add(runner.run(d));
            }
        }
        Path tok = fixtureSet.resolve("tokenizer");
        if (Files.isDirectory(tok) && (only.isEmpty() || only.contains("tokenizer"))) {
            results.add(TokenizerCases.run(tok));
        }
        return results;
    }

    /**
     * Compares the outputs another implementation wrote ({@code outputs/cases/<name>/outputs.safetensors})
     * with every case's reference (or only {@code only}'s), as {@link #run} compares Panopt's; nothing runs.
     */
    public static List<CaseResult> compareOutputs(Path fixtureSet, Path outputs, Set<String> only) throws IOException {
        if (!Files.isDirectory(outputs)) {
            throw new IOException("outputs directory not found: " + outputs);
        }
        List<CaseResult> results = new ArrayList<>();
        for (Path d : caseDirs(fixtureSet, only)) {
            results.add(OutputsComparer.compare(d, outputs));
        }
        if (Files.isDirectory(fixtureSet.resolve("tokenizer")) && (only.isEmpty() || only.contains("tokenizer"))) {
            results.add(CaseResult.skipped("tokenizer", "outputs cover the model cases; tokenizer/cases.jsonl and "
                    + "decode_cases.jsonl are plain JSON to test a tokenizer against directly"));
        }
        return results;
    }

    /** The case folders of a fixture set, sorted, restricted to {@code only} when it is not empty. */
    static List<Path> caseDirs(Path fixtureSet, Set<String> only) throws IOException {
        Path cases = fixtureSet.resolve("cases");
        if (!Files.isDirectory(cases)) {
            throw new IOException(fixtureSet + " has no cases/ folder (expected the layout of shared/conformance)");
        }
        try (Stream<Path> s = Files.list(cases)) {
            return s.filter(Files::isDirectory).sorted()
                    .filter(d -> only.isEmpty() || only.contains(d.getFileName().toString())).toList();
        }
    }
}
