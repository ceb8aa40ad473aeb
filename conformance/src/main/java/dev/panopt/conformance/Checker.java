package dev.panopt.conformance;

import dev.panopt.Backend;
import dev.panopt.BackendOptions;
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
 * weights and expected.safetensors) and optionally {@code tokenizer/}. Thread-confined.
 */
public final class Checker {
    private final BackendOptions backendOptions;
    private final Quantization quantization;

    /** @param backendOptions threads and ISA of the backend the cases run on */
    public Checker(BackendOptions backendOptions) {
        this(backendOptions, Quantization.NONE);
    }

    /**
     * @param backendOptions threads and ISA of the backend the cases run on
     * @param quantization   how the models' weights are stored ({@link CaseRunner} says what is compared then)
     */
    public Checker(BackendOptions backendOptions, Quantization quantization) {
        this.backendOptions = backendOptions;
        this.quantization = quantization;
    }

    /** Runs every case (or only {@code only}, when not empty). */
    public List<CaseResult> run(Path fixtureSet, Set<String> only) throws IOException {
        Path cases = fixtureSet.resolve("cases");
        if (!Files.isDirectory(cases)) {
            throw new IOException(fixtureSet + " has no cases/ folder (expected the layout of shared/conformance)");
        }
        List<Path> dirs;
        try (Stream<Path> s = Files.list(cases)) {
            dirs = s.filter(Files::isDirectory).sorted().toList();
        }
        List<CaseResult> results = new ArrayList<>();
        try (Backend backend = Backend.create(backendOptions)) {
            CaseRunner runner = new CaseRunner(backend, quantization);
            for (Path d : dirs) {
                String name = d.getFileName().toString();
                if (!only.isEmpty() && !only.contains(name)) {
                    continue;
                }
                results.add(runner.run(d));
            }
        }
        Path tok = fixtureSet.resolve("tokenizer");
        if (Files.isDirectory(tok) && (only.isEmpty() || only.contains("tokenizer"))) {
            results.add(TokenizerCases.run(tok));
        }
        return results;
    }
}
