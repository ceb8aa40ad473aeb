package dev.panopt.conformance;

import dev.panopt.Isa;
import dev.panopt.BackendOptions;
import dev.panopt.Device;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code conformance/check DIR [--json] [--case NAME]... [--threads N] [--isa LEVEL] [--device DEVICE]}: runs every
 * supported case of a fixture set and prints, per stored tensor, max abs and relative L2 error and
 * PASS/FAIL; unsupported cases or outputs are SKIPPED with the reason. Exit 0 when nothing failed,
 * 1 when a check failed, 2 on bad usage.
 */
public final class Check {
    private Check() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Path dir = null;
        boolean json = false;
        Set<String> only = new LinkedHashSet<>();
        BackendOptions.Builder opts = BackendOptions.builder();
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--json" -> json = true;
                    case "--case" -> only.add(value(args, ++i, "--case"));
                    case "--threads" -> opts.threads(Integer.parseInt(value(args, ++i, "--threads")));
                    case "--isa" -> opts.isa(Isa.valueOf(value(args, ++i, "--isa").toUpperCase(Locale.ROOT)));
                    case "--device" -> opts.device(Device.parse(value(args, ++i, "--device")));
                    case "-h", "--help" -> {
                        out.println("usage: conformance/check DIR [--json] [--case NAME]... [--threads N] "
                                + "[--isa auto|scalar|avx2|avx512] [--device cpu|cuda:N]");
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
        } catch (IllegalArgumentException e) {
            err.println("check: " + e.getMessage());
            return 2;
        }
        List<CaseResult> results;
        try {
            results = new Checker(opts.build()).run(dir, only);
        } catch (Exception e) {
            err.println("check: " + e.getMessage());
            return 2;
        }
        if (json) {
            out.println(Reports.json(dir, results));
        } else {
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
