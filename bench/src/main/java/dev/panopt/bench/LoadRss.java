package dev.panopt.bench;

import dev.panopt.CausalLMOutput;
import dev.panopt.DType;
import dev.panopt.ForwardRequest;
import dev.panopt.OptForCausalLM;
import dev.panopt.Session;
import dev.panopt.SessionOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Peak resident memory of a GGUF model after its first token, against the file plus the KV cache (the GGUF
 * issue's bound: at most 1.15× that). Run in a fresh JVM, one model per run, since a JVM's peak (VmHWM)
 * never goes down:
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp "bench/target/panopt-bench-0.1.0-SNAPSHOT.jar:bench/target/lib/*" \
 *     dev.panopt.bench.LoadRss opt-1.3b Q4_0 [positions] [hf] [kept]
 * </pre>
 * With {@code kept} the weights stay where the checkpoint maps them ({@code LoadOptions.repack(false)});
 * by default Q4_0/Q8_0/Q4_K/Q5_K/Q6_K weights are copied into the native model's 8-row groups and their source
 * released.
 * With {@code hf} the model is the F16 checkpoint quantized while loading instead (the memory bound of
 * quantize-on-load: near the quantized size plus one tensor), compared with the same GGUF's size.
 * The file is {@link Checkpoints#optGguf} (generated on first use, before the baseline is read). The KV
 * cache is the session's (f32, {@code positions} = 512 by default, the context the load benchmark creates);
 * it is allocated at session creation but only the pages of the positions written become resident. Prints
 * the JVM's resident set before loading (the baseline: the JVM itself), after the first token, and the peak,
 * with the peak ÷ (file + KV cache) and (peak − baseline) ÷ (file + KV cache).
 */
public final class LoadRss {
    private LoadRss() {}

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: LoadRss SHAPE FORMAT [positions] [hf] [kept]");
            System.exit(2);
        }
        ModelShape s = ModelShape.of(args[0]);
        String format = args[1];
        List<String> rest = List.of(args).subList(2, args.length);
        int positions = !rest.isEmpty() && rest.get(0).matches("\\d+") ? Integer.parseInt(rest.get(0)) : 512;
        // hf: the F16 checkpoint quantized while loading (the bound then is the quantized size, the
        // GGUF file's, plus the KV cache: pages of the checkpoint are released once converted)
        boolean fromHf = rest.contains("hf");
        dev.panopt.LoadOptions.Builder options = dev.panopt.LoadOptions.builder().repack(!rest.contains("kept"));
        Path file = Checkpoints.optGguf(s, format);
        long fileBytes = Files.size(file);
        Path hf = Checkpoints.opt(s, "F16");
        long kvBytes = 2L * s.layers() * positions * s.hidden() * DType.F32.bytes(1);
        System.gc();
        long baseline = status("VmRSS");
        long t0 = System.nanoTime();
        int token;
        try (OptForCausalLM lm = fromHf ? PanoptBench.open(s, format, options)
                : OptForCausalLM.fromPretrained(file, options.build());
             Session session = lm.newSession(SessionOptions.builder().maxSequenceLength(positions).build());
             CausalLMOutput out = lm.forwardLast(ForwardRequest.inputIds(new int[][] {{2}}).session(session).build())) {
            token = Sampling.argmax(out.logits().segment(), 0, s.vocab());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            long rss = status("VmRSS");
            long peak = status("VmHWM");
            double budget = fileBytes + kvBytes;
            System.out.printf(Locale.ROOT, "%s %s%s: file %.1f MB, KV cache (f32, %d positions) %.1f MB, load + first token %d ms (token %d)%n",
                    s.name(), format, (fromHf ? " quantized while loading " + hf.getFileName() + " (quantized size = the GGUF's)"
                            : " GGUF") + (rest.contains("kept") ? ", weights kept as stored" : ", repacked where the CPU does"),
                    fileBytes / 1e6, positions, kvBytes / 1e6, ms, token);
            System.out.printf(Locale.ROOT, "RSS: baseline (JVM before load) %.1f MB, after first token %.1f MB, peak %.1f MB%n",
                    baseline / 1e6, rss / 1e6, peak / 1e6);
            System.out.printf(Locale.ROOT, "peak / (file + KV) = %.3f; (peak - baseline) / (file + KV) = %.3f%n",
                    peak / budget, (peak - baseline) / budget);
        }
    }

    /** A {@code /proc/self/status} field in bytes (Linux). */
    static long status(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) {
                String[] f = line.substring(field.length() + 1).trim().split("\\s+");
                return Long.parseLong(f[0]) * 1024; // kB
            }
        }
        throw new IOException("no " + field + " in /proc/self/status");
    }
}
