package dev.panopt.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.panopt.checkpoint.SafetensorsWriter;
import dev.panopt.checkpoint.TensorInfo;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code conformance/export-inputs DIR OUT [--case NAME]...}: writes what another OPT implementation
 * needs to run each case of a fixture set: per case {@code OUT/cases/<name>/} with {@code config.json},
 * {@code model.safetensors}, {@code inputs.safetensors} (the input and derived tensors) and
 * {@code inputs.json} (the calls to make and the outputs to write, by reference name, with shapes and
 * tolerances). The format is documented in conformance/README.md. Exit 0 on success, 2 on bad usage
 * or an unreadable fixture.
 */
public final class ExportInputs {
    /** The format name and version written into every inputs.json. */
    static final String FORMAT = "panopt-conformance-inputs/1";
    static final String INPUTS_JSON = "inputs.json";
    static final String INPUTS_FILE = "inputs.safetensors";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ExportInputs() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Path dir = null;
        Path to = null;
        Set<String> only = new LinkedHashSet<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                out.println("usage: conformance/export-inputs DIR OUT_DIR [--case NAME]...");
                return 0;
            } else if (a.equals("--case") && i + 1 < args.length) {
                only.add(args[++i]);
            } else if (a.startsWith("-") || (dir != null && to != null)) {
                err.println("export-inputs: unexpected argument " + a);
                return 2;
            } else if (dir == null) {
                dir = Path.of(a);
            } else {
                to = Path.of(a);
            }
        }
        if (dir == null || to == null) {
            err.println("export-inputs: give the fixture directory and the directory to write into");
            return 2;
        }
        try {
            for (Path caseDir : Checker.caseDirs(dir, only)) {
                export(caseDir, to.resolve("cases").resolve(caseDir.getFileName().toString()));
                out.println("exported " + caseDir.getFileName());
            }
        } catch (IOException | RuntimeException e) {
            err.println("export-inputs: " + Compare.describe(e));
            return 2;
        }
        return 0;
    }

    /** Writes one case's folder. */
    static void export(Path caseDir, Path to) throws IOException {
        Files.createDirectories(to);
        try (Fixture f = Fixture.open(caseDir)) {
            JsonNode files = f.caseJson.path("files");
            Files.copy(caseDir.resolve(files.path("config").asText("config.json")), to.resolve("config.json"),
                    StandardCopyOption.REPLACE_EXISTING);
            Files.copy(caseDir.resolve(files.path("weights").asText("model.safetensors")), to.resolve("model.safetensors"),
                    StandardCopyOption.REPLACE_EXISTING);
            List<Fixture.Stored> stored = f.stored();
            SafetensorsWriter inputs = new SafetensorsWriter().metadata("format", FORMAT);
            ObjectNode root = JSON.createObjectNode();
            root.put("format", FORMAT);
            root.put("case", f.name);
            root.put("description", f.caseJson.path("description").asText(""));
            root.put("model_class", f.modelClass());
            root.put("config", "config.json");
            root.put("weights", "model.safetensors");
            root.put("inputs", INPUTS_FILE);
            root.put("write", OutputTensors.FILE);
            ArrayNode tensors = root.putArray("tensors");
            ArrayNode outputs = root.putArray("outputs");
            for (Fixture.Stored s : stored) {
                TensorInfo t = f.expected.info(s.name());
                ObjectNode o = (s.role().equals("expected") ? outputs : tensors).addObject();
                o.put("name", s.name());
                if (s.role().equals("expected")) {
                    o.put("call", s.call());
                    Compare.Tolerance tol = Compare.toleranceFor(s.name(), !t.dtype().isFloatingPoint());
                    ObjectNode tn = o.putObject("tolerance");
                    if (tol.exact()) {
                        tn.put("exact", true);
                    } else {
                        tn.put("atol", tol.atol());
                        tn.put("rtol", tol.rtol());
                    }
                } else {
                    o.put("role", s.role());
                    inputs.add(s.name(), t.dtype(), t.shape(), f.expected.data(s.name()));
                }
                o.put("dtype", t.dtype().safetensorsName());
                ArrayNode shape = o.putArray("shape");
                for (long d : t.shape()) {
                    shape.add(d);
                }
                if (s.note() != null) {
                    o.put("note", s.note());
                }
            }
            root.set("calls", f.caseJson.path("calls").deepCopy());
            inputs.write(to.resolve(INPUTS_FILE));
            JSON.writeValue(to.resolve(INPUTS_JSON).toFile(), root);
        }
    }
}
