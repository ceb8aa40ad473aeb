package dev.panopt.conformance;

import dev.panopt.Isa;
import dev.panopt.BackendOptions;
import dev.panopt.Quantization;
import dev.panopt.DType;
import dev.panopt.Device;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code conformance/check DIR [--json] [--case NAME]... [--threads N] [--isa LEVEL] [--write-outputs OUT]
 * [--quantize FORMAT] [--compute-type f32|bf16] [--device DEVICE]}: runs every supported case of a fixture set and prints, per stored tensor, max
 * abs and relative L2 error and PASS/FAIL; unsupported cases or outputs are SKIPPED with the reason.
 * With {@code --quantize} (a {@link Quantization} preset) the weights are quantized on load and the
 * logits are judged as distributions against the bounds of {@link QuantizationBounds}, as they are with
 * {@code --compute-type bf16} (sessions with bf16 products in their prompts). With
 * {@code --outputs OTHER}, nothing runs: the outputs another implementation wrote into OTHER are
 * compared instead (conformance/README.md). Exit 0 when nothing failed, 1 when a check failed, 2 on
 * bad usage.
 */
public final class Check {
    private Check() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static final String USAGE = "usage: conformance/check DIR [--json] [--case NAME]... [--threads N] "
            + "[--isa auto|scalar|avx2|avx512|avx512_vnni|amx|neon] [--write-outputs OUT_DIR]\n"
            + "       conformance/check DIR --quantize Q8_0|Q4_0|Q4_1|Q5_0|Q5_1|Q4_K_M|Q5_K_M|Q6_K|F16|BF16|F32 [--json] "
            + "[--case NAME]... [--threads N] [--isa LEVEL]\n"
            + "       conformance/check DIR [--quantize FORMAT] --compute-type bf16 [--json] [--case NAME]... [--threads N] [--isa LEVEL]\n"
            + "       conformance/check DIR --outputs OTHER_DIR [--json] [--case NAME]...";

    static int run(String[] args, PrintStream out, PrintStream err) {
        Path dir = null;
        Path outputs = null;
        Path writeOutputs = null;
        boolean backendFlags = false;
        boolean json = false;
        Set<String> only = new LinkedHashSet<>();
        BackendOptions.Builder opts = BackendOptions.builder();
        Quantization quantization = Quantization.NONE;
        DType computeType = DType.F32;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--json" -> json = true;
                    case "--case" -> only.add(value(args, ++i, "--case"));
                    case "--threads" -> {
                        opts.threads(Integer.parseInt(value(args, ++i, "--threads")));
                        backendFlags = true;
                    }
                    case "--isa" -> {
                        opts.isa(Isa.valueOf(value(args, ++i, "--isa").toUpperCase(Locale.ROOT)));
                        backendFlags = true;
                    }
                    case "--device" -> {
                        opts.device(Device.parse(value(args, ++i, "--device")));
                        backendFlags = true;
                    }
                    case "--outputs" -> outputs = Path.of(value(args, ++i, "--outputs"));
                    case "--write-outputs" -> writeOutputs = Path.of(value(args, ++i, "--write-outputs"));
                    case "--quantize" -> quantization = Quantization.named(value(args, ++i, "--quantize"));
                    case "--compute-type" -> {
                        String v = value(args, ++i, "--compute-type");
                        computeType = switch (v.toLowerCase(Locale.ROOT)) {
                            case "f32" -> DType.F32;
                            case "bf16" -> DType.BF16;
                            default -> throw new IllegalArgumentException("--compute-type is f32 or bf16, not '" + v + "'");
                        };
                    }
                    case "-h", "--help" -> {
                        out.println(USAGE);
                        return 0;
                    }
                    default -> {
                        if (args[i].startsWith("-") || dir != null) {
                            throw new IllegalArgumentException("unexpected argument " + args[i]);
                        }
                        dir = Path.of(args[i]);
                    }
                }
            }
            if (dir == null) {
                throw new IllegalArgumentException("missing fixture directory (a folder holding cases/)");
            }
            if (!Files.isDirectory(dir)) {
                throw new IllegalArgumentException(dir + " is not a directory");
            }
            boolean exact = quantization.keepsEverything() && computeType == DType.F32;
            if (outputs != null && (backendFlags || writeOutputs != null || !exact)) {
                throw new IllegalArgumentException("--outputs compares files another implementation wrote; "
                        + "--threads, --isa, --write-outputs, --quantize and --compute-type apply to Panopt's own run");
            }
            if (writeOutputs != null && !exact) {
                throw new IllegalArgumentException("--write-outputs writes outputs to compare element-wise: "
                        + "not with --quantize or --compute-type bf16");
            }
        } catch (IllegalArgumentException e) {
            err.println("check: " + e.getMessage());
            return 2;
        }
        List<CaseResult> results;
        try {
            results = outputs != null ? Checker.compareOutputs(dir, outputs, only)
                    : new Checker(opts.build(), quantization, computeType).run(dir, only, writeOutputs);
        } catch (Exception e) {
            err.println("check: " + e.getMessage());
            return 2;
        }
        if (json) {
            out.println(Reports.json(dir, outputs, results));
        } else {
            if (outputs != null) {
                out.println("outputs of " + outputs + " against the references of " + dir);
            }
            Reports.text(results, out);
        }
        return CaseResult.Summary.of(results).exitStatus();
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return args[i];
    }
}
