package dev.panopt.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns the JMH trials, the decode latency logs and the machine probes into RESULTS.md and
 * results.json. Values: prefill and decode in tokens/s (all rows of the batch), load in ms, a downcall
 * in ns. Ratios are Panopt F16 ÷ peer for throughput and peer ÷ Panopt for load time, so above 1
 * always means Panopt is faster.
 */
public final class Report {
    static final String REF_FORMAT = "F16";
    /** The workload of VersusBench.Decode: Panopt and llama.cpp's C API taking turns in one process. */
    static final String VERSUS = "decode-versus";
    /** VersusBench.Prefill's workload suffix (prefill-512-versus). */
    static final String VERSUS_SUFFIX = "-versus";
    static final String VERSUS_PEER = "llama.cpp-capi";

    /** Whether a workload is one of VersusBench's: two systems' rows from one trial. */
    static boolean versus(String workload) {
        return workload.endsWith(VERSUS_SUFFIX);
    }
    /** A VersusBench row's format column: the format and the system it took turns with. */
    static String versusLabel(Suite.Trial t, String format) {
        return format + ", turns with " + (t.system().equals("panopt") ? VERSUS_PEER : "panopt");
    }

    /** A VersusBench trial as its other system's (its figures come from that system's latency log). */
    static Suite.Trial versusPeer(Suite.Trial t) {
        return new Suite.Trial(VERSUS_PEER, t.workload(), t.method(), t.params(), t.score(), t.error(), t.unit());
    }

    static final List<String> SYSTEM_ORDER = List.of("panopt", "llama.cpp-capi", "llama.cpp-binding", "jlama");

    /**
     * The machine and its measured ceilings. Read bandwidth depends on where a buffer lands (the same
     * binary reads 26–47 GB/s in different processes on this machine class), so it is probed several
     * times with fresh buffers, before and after the trials, and the floors use the median reading;
     * peak FMA is stable and uses the best.
     */
    public record Machine(String cpu, int logicalCpus, String isa, long memBytes, String jdk, String os,
                          int threads, double peakGflops1, double peakGflops, double peakInt8Gops, double peakBf16Gflops, List<Double> reads1,
                          List<Double> reads2) {
        static final int READ_PROBES = 3;

        static Machine probe(Probe p, int threads, boolean quick) throws IOException {
            String cpu = "unknown";
            String flags = "";
            long mem = 0;
            Path ci = Path.of("/proc/cpuinfo");
            if (Files.isReadable(ci)) {
                for (String line : Files.readAllLines(ci)) {
                    if (line.startsWith("model name") && cpu.equals("unknown")) cpu = line.substring(line.indexOf(':') + 1).trim();
                    if (line.startsWith("flags") && flags.isEmpty()) flags = line;
                }
            }
            Path mi = Path.of("/proc/meminfo");
            if (Files.isReadable(mi)) {
                for (String line : Files.readAllLines(mi)) {
                    if (line.startsWith("MemTotal")) mem = Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
            List<String> isa = new ArrayList<>();
            for (String f : new String[] {"avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile"}) {
                if ((" " + flags + " ").contains(" " + f + " ")) isa.add(f);
            }
            long bytes = quick ? 64L << 20 : 1L << 30;
            int reps = quick ? 1 : 3;
            int n = quick ? 1 : READ_PROBES;
            List<Double> r1 = new ArrayList<>(), r2 = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                r1.add(p.readGbps(1, bytes, reps));
                r2.add(p.readGbps(Math.max(2, threads), bytes, reps));
            }
            return new Machine(cpu, Runtime.getRuntime().availableProcessors(), String.join(" ", isa), mem,
                    System.getProperty("java.vm.name") + " " + Runtime.version(),
                    System.getProperty("os.name") + " " + System.getProperty("os.version"), threads,
                    p.peakGflops(1), p.peakGflops(threads), p.peakInt8Gops(threads), p.peakBf16Gflops(threads), List.copyOf(r1),
                    List.copyOf(r2));
        }

        /** Both probes together: best peak FMA, all bandwidth readings. */
        Machine best(Machine o) {
            List<Double> a = new ArrayList<>(reads1), b = new ArrayList<>(reads2);
            a.addAll(o.reads1);
            b.addAll(o.reads2);
            return new Machine(cpu, logicalCpus, isa, memBytes, jdk, os, threads, Math.max(peakGflops1, o.peakGflops1),
                    Math.max(peakGflops, o.peakGflops), Math.max(peakInt8Gops, o.peakInt8Gops),
                    Math.max(peakBf16Gflops, o.peakBf16Gflops), List.copyOf(a), List.copyOf(b));
        }

        static double median(List<Double> v) {
            if (v.isEmpty()) return Double.NaN;
            double[] s = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
        }

        double readGbps1() {
            return median(reads1);
        }

        double readGbps2() {
            return median(reads2);
        }

        static String range(List<Double> v) {
            double lo = v.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
            double hi = v.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
            return String.format(Locale.ROOT, "%.1f–%.1f over %d probes", lo, hi, v.size());
        }

        double bandwidth(int t) {
            return t >= 2 ? readGbps2() : readGbps1();
        }

        String summary() {
            return String.format(Locale.ROOT, "%s, %d CPUs [%s]; peak f32 FMA %.0f GFLOP/s (1 thread %.0f); peak int8 %.0f GOP/s; "
                    + "peak bf16 %.0f GFLOP/s; read %.1f GB/s (1 thread), %.1f GB/s (2 threads)",
                    cpu, logicalCpus, isa, peakGflops, peakGflops1, peakInt8Gops, peakBf16Gflops, readGbps1(), readGbps2());
        }

        /**
         * The compute ceiling of a prefill in {@code format}: int8 dot products for ggml's block formats,
         * bf16 ones for a session computing in BF16 where the CPU has them.
         */
        double peakFor(String format, String computeType) {
            if (isQuantized(format)) return peakInt8Gops;
            return computeType.equals("BF16") && peakBf16Gflops > 0 ? peakBf16Gflops : peakGflops;
        }
    }

    /** Whether a format name is one of ggml's block formats or presets (Q8_0, Q4_K_M, ...). */
    static boolean isQuantized(String format) {
        return format.startsWith("Q");
    }

    /** One reported figure. */
    record Row(String workload, String system, String model, String format, int batch, int threads, double value,
               String unit, double error, double p50ms, double p99ms, double floor, double floorFraction, String floorNote,
               double trialReadGbps, double trialFloorFraction, BracketedFloor bracketed) {
        /** A row without in-trial bandwidth readings (every workload but decode). */
        Row(String workload, String system, String model, String format, int batch, int threads, double value,
            String unit, double error, double p50ms, double p99ms, double floor, double floorFraction, String floorNote) {
            this(workload, system, model, format, batch, threads, value, unit, error, p50ms, p99ms, floor, floorFraction,
                    floorNote, Double.NaN, Double.NaN, BracketedFloor.NONE);
        }

        String group() {
            return workload + "|" + model + "|" + batch;
        }

        String label() {
            return system + " " + format;
        }
    }

    final List<Suite.Trial> trials;
    final Machine machine;
    final Path out;
    final String date;
    final List<String> trimmed;
    final List<Suite.Entry> plan;
    final boolean smoke;
    final List<Row> rows = new ArrayList<>();
    final List<String> missing = new ArrayList<>();
    final List<String> unsupported = new ArrayList<>();
    final List<String> notes = new ArrayList<>();
    /** The 2-thread decode trials' own bandwidth readings, by where the vCPUs were (BracketedFloor.SHARED_L3_NS). */
    final List<Double> trialReadsSharedL3 = new ArrayList<>(), trialReadsSeparateL3 = new ArrayList<>();

    Report(List<Suite.Trial> trials, Machine machine, Path out, String date, List<String> trimmed, List<Suite.Entry> plan,
           boolean smoke) throws IOException {
        this.trials = trials;
        this.machine = machine;
        this.out = out;
        this.date = date;
        this.trimmed = trimmed;
        this.plan = plan;
        this.smoke = smoke;
        for (Suite.Trial t : trials) {
            rows.add(row(t));
            if (versus(t.workload())) { // the trial's other system: its own row, from its own log
                rows.add(row(versusPeer(t)));
            }
        }
        rows.sort(Comparator.comparing((Row r) -> r.workload).thenComparingInt(r -> shapeIndex(r.model))
                .thenComparingInt(r -> r.batch).thenComparingInt(r -> SYSTEM_ORDER.indexOf(r.system)).thenComparing(r -> r.format));
        // planned but absent
        for (Suite.Entry e : plan) {
            int expected = 1;
            for (String[] v : e.params().values()) expected *= v.length;
            long got = trials.stream().filter(t -> t.method().equals(e.method()) && matches(t, e)).count();
            if (got < expected) {
                missing.add(e.method().substring(Suite.PB.length()) + " " + Suite.describe(e.params()) + ": " + got + " of " + expected + " trials");
            }
        }
    }

    static int shapeIndex(String model) {
        for (int i = 0; i < ModelShape.ALL.size(); i++) {
            if (ModelShape.ALL.get(i).name().equals(model)) return i;
        }
        return ModelShape.ALL.size();
    }

    static boolean matchesPublic(Suite.Trial t, Suite.Entry e) {
        return matches(t, e);
    }

    private static boolean matches(Suite.Trial t, Suite.Entry e) {
        for (var kv : e.params().entrySet()) {
            if (!Arrays.asList(kv.getValue()).contains(t.params().get(kv.getKey()))) return false;
        }
        return true;
    }

    /** The matmul weights a decode step streams, each tensor in the format Panopt's loader gives it. */
    static long panoptQuantizedBytes(ModelShape s, String format) {
        dev.panopt.Quantization q = PanoptBench.quantization(format);
        int n = s.layers(), h = s.hidden(), f = s.ffn(), p = s.wordEmbedProjDim();
        long b = 0;
        for (int l = 0; l < n; l++) {
            b += bytes(q, dev.panopt.Quantization.TensorClass.Q_PROJ, h, h, l, n);
            b += bytes(q, dev.panopt.Quantization.TensorClass.K_PROJ, h, h, l, n);
            b += bytes(q, dev.panopt.Quantization.TensorClass.V_PROJ, h, h, l, n);
            b += bytes(q, dev.panopt.Quantization.TensorClass.OUT_PROJ, h, h, l, n);
            b += bytes(q, dev.panopt.Quantization.TensorClass.FC1, f, h, l, n);
            b += bytes(q, dev.panopt.Quantization.TensorClass.FC2, h, f, l, n);
        }
        b += bytes(q, dev.panopt.Quantization.TensorClass.LM_HEAD, s.vocab(), p, -1, n);
        if (s.hasProjection()) {
            b += bytes(q, dev.panopt.Quantization.TensorClass.PROJECT_IN, h, p, -1, n);
            b += bytes(q, dev.panopt.Quantization.TensorClass.PROJECT_OUT, p, h, -1, n);
        }
        return b;
    }

    private static long bytes(dev.panopt.Quantization q, dev.panopt.Quantization.TensorClass c, long rows, long cols,
                              int layer, int n) {
        return q.typeFor(c, dev.panopt.DType.F16, rows, cols, layer, n).bytes(rows * cols);
    }

    List<String> missing() {
        return missing;
    }

    static long weightBytes(String system, ModelShape s, String format) {
        if (system.equals("panopt")) {
            return format.equals("F32") || format.equals("F16") ? s.optMatmulParams() * (format.equals("F32") ? 4 : 2)
                    : panoptQuantizedBytes(s, format);
        }
        if (system.equals("jlama")) {
            // Jlama's Q4: blocks of 32 nibbles with an f32 scale (0.625 B/weight).
            return format.equals("Q4") ? s.gpt2MatmulParams() * 20 / 32 : s.gpt2MatmulParams() * 4;
        }
        return TwinTypes.matmulBytes(s, format);
    }

    static int kvBytesPerElem(String system) {
        return system.startsWith("llama.cpp") ? 2 : 4; // llama.cpp: f16 cache; Panopt, Jlama: f32
    }

    Row row(Suite.Trial t) throws IOException {
        String model = t.p("model", "-");
        String format = t.p("format", "-");
        int batch = Integer.parseInt(t.p("batch", "1"));
        int threads = Integer.parseInt(t.p("threads", "0"));
        ModelShape s = model.equals("-") || model.equals("bundled") ? null : ModelShape.of(model);
        double ms = toMs(t.score(), t.unit());
        double errMs = toMs(t.error(), t.unit());
        if (t.workload().startsWith("prefill")) {
            int tokens = Integer.parseInt(t.p("tokens", "0"));
            String vsNote = "";
            if (versus(t.workload())) { // each system's own prompts, timed one by one
                String variant = LatencyLog.versusPrefill(format, tokens);
                ms = meanMs(latencyFile(t, model, variant, batch, threads));
                errMs = Double.NaN;
                if (t.system().equals("panopt")) {
                    double peerMs = meanMs(latencyFile(versusPeer(t), model, variant, batch, threads));
                    vsNote = String.format(Locale.ROOT, "; %s in the same iterations, prompts in turns: %.1f tok/s; **Panopt ÷ %s: %.2f**",
                            VERSUS_PEER, batch * tokens / (peerMs / 1e3), VERSUS_PEER, peerMs / ms);
                }
            }
            double tps = batch * tokens / (ms / 1e3);
            double err = Double.isNaN(errMs) ? Double.NaN : tps * errMs / ms;
            boolean opt = t.system().equals("panopt");
            double flops = s.prefillFlops(opt ? s.optMatmulParams() : s.gpt2MatmulParams(),
                    opt ? s.optHeadParams() : s.gpt2HeadParams(), tokens, batch);
            String compute = t.p("computeType", "F32");
            double peak = machine.peakFor(format, compute);
            double peakTps = peak * 1e9 / (flops / (batch * tokens));
            boolean bf16 = compute.equals("BF16");
            String label = versus(t.workload()) ? versusLabel(t, format)
                    : bf16 ? format + ", bf16 compute" : format;
            return new Row(t.workload(), t.system(), model, label, batch, threads, tps,
                    "tok/s", err, Double.NaN, Double.NaN, peakTps, tps / peakTps,
                    String.format(Locale.ROOT, "%.0f G%s/s of %.0f %speak", flops / (ms / 1e3) / 1e9,
                            isQuantized(format) ? "OP" : "FLOP", peak, bf16 && machine.peakBf16Gflops > 0 ? "bf16 " : "") + vsNote);
        }
        if (t.workload().startsWith("decode")) {
            int prompt = Integer.parseInt(t.p("promptLen", "0"));
            int n = Integer.parseInt(t.p("newTokens", "0"));
            double tps, p50 = Double.NaN, p99 = Double.NaN, err = Double.NaN;
            String kv = t.p("kvCache", null);
            // an alternated decode (PanoptBench.DecodeAlternating) reports its long stream, against its short one
            String shortLen = t.p("shortLen", null);
            boolean versus = versus(t.workload());
            String variant = kv == null ? format
                    : versus ? LatencyLog.versus(format, prompt, kv)
                    : shortLen == null ? LatencyLog.variant(format, prompt, kv) : LatencyLog.alternated(format, prompt, kv);
            Path lat = latencyFile(t, model, variant, batch, threads);
            long[] steps = Files.isRegularFile(lat) ? LatencyLog.inOrder(lat) : new long[0];
            if (steps.length > 0) {
                long[] v = steps.clone();
                Arrays.sort(v);
                double mean = Arrays.stream(v).average().orElse(Double.NaN);
                tps = batch * 1e9 / mean;
                p50 = LatencyLog.quantileMs(v, 0.50);
                p99 = LatencyLog.quantileMs(v, 0.99);
            } else {
                tps = batch * n / (ms / 1e3);
                err = Double.isNaN(errMs) ? Double.NaN : tps * errMs / ms;
            }
            double ctx = prompt + (n + 1) / 2.0; // mean context length over the decode
            double kvPerElem = kv == null ? kvBytesPerElem(t.system()) : dev.panopt.DType.valueOf(kv).bytes(32) / 32.0;
            double bytes = weightBytes(t.system(), s, format) + batch * s.kvBytes(1, 1) * kvPerElem * ctx;
            double memSec = bytes / (machine.bandwidth(threads) * 1e9);
            long params = t.system().equals("panopt") ? s.optMatmulParams() : s.gpt2MatmulParams();
            // the matmuls at the rate of the unit they run on (int8 dot products for block formats, as in
            // prefill), attention over the f32/f16 cache at the f32 FMA rate
            double matmulOps = batch * 2.0 * params, attnFlops = batch * 4.0 * s.layers() * s.hidden() * ctx;
            double matmulPeak = machine.peakFor(format, "F32");
            String op = isQuantized(format) ? "OP" : "FLOP";
            double flopSec = matmulOps / (matmulPeak * 1e9) + attnFlops / (machine.peakGflops * 1e9);
            double floorTps = batch / Math.max(memSec, flopSec);
            String basis = memSec >= flopSec
                    ? String.format(Locale.ROOT, "memory: %.0f MB/step at %.1f GB/s", bytes / 1e6, machine.bandwidth(threads))
                    : String.format(Locale.ROOT, "compute: %.1f G%s/step at %.0f G%s/s + attention %.2f GFLOP at %.0f (memory %.0f MB/step)",
                            matmulOps / 1e9, op, matmulPeak, op, attnFlops / 1e9, machine.peakGflops, bytes / 1e6);
            // the same floor at the bandwidth this trial's own process read before its iterations
            List<LatencyLog.Bracket> brackets = LatencyLog.brackets(lat);
            List<Double> trialReads = brackets.stream().map(LatencyLog.Bracket::beforeGbps).toList();
            double trialGbps = Machine.median(trialReads), trialFraction = Double.NaN;
            if (!trialReads.isEmpty()) {
                trialFraction = tps / (batch / Math.max(bytes / (trialGbps * 1e9), flopSec));
                basis += String.format(Locale.ROOT, "; in-trial read %.1f GB/s (median; %s): %s of that floor",
                        trialGbps, Machine.range(trialReads), pct(trialFraction));
            }
            BracketedFloor bracketed = BracketedFloor.of(brackets, steps, batch, bytes, flopSec);
            if (threads >= 2) {
                BracketedFloor.readingsByPlacement(brackets, trialReadsSharedL3, trialReadsSeparateL3);
            }
            if (bracketed.iterations() > 0) {
                basis += "; " + bracketed.note();
            }
            if (p99 > 5 * p50) {
                basis += "; ⚠ stalls (p99 > 5 × p50: the mean is disturbed, e.g. by a noisy neighbour)";
            }
            String label = versus ? versusLabel(t, format)
                    : kv == null || t.workload().equals("decode-128") ? format
                    : format + ", prompt " + prompt + ", " + kv + " cache";
            if (versus && t.system().equals("panopt")) {
                double peerTps = batch * 1e3 / meanMs(latencyFile(versusPeer(t), model, variant, batch, threads));
                basis += String.format(Locale.ROOT, "; %s in the same iterations, turns of %d tokens each: %.1f tok/s; "
                        + "**Panopt ÷ %s: %.2f**", VERSUS_PEER, n, peerTps, VERSUS_PEER, tps / peerTps);
            }
            if (shortLen != null) {
                label += ", alternated with prompt " + shortLen;
                Path other = latencyFile(t, model, LatencyLog.alternated(format, Integer.parseInt(shortLen), kv), batch, threads);
                double p50Short = Files.isRegularFile(other) ? LatencyLog.quantileMs(LatencyLog.sorted(other), 0.50) : Double.NaN;
                basis += String.format(Locale.ROOT, "; **p50 ÷ the alternated prompt-%s step's (%.2f ms): %.2f**", shortLen,
                        p50Short, p50 / p50Short);
            }
            return new Row(t.workload(), t.system(), model, label, batch, threads, tps, "tok/s", err, p50, p99, floorTps,
                    tps / floorTps, basis, trialGbps, trialFraction, bracketed);
        }
        if (t.workload().startsWith("generate")) {
            // Text in, text out on the bundled checkpoint: new tokens of all rows per second.
            int n = Integer.parseInt(t.p("newTokens", "0"));
            double tps = batch * n / (ms / 1e3);
            return new Row(t.workload(), t.system(), "bundled opt125m-shape-f16", "F16", batch, threads, tps, "tok/s",
                    Double.isNaN(errMs) ? Double.NaN : tps * errMs / ms, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                    "generate(tokenizer, prompts, greedy) end to end");
        }
        if (t.workload().startsWith("score")) {
            // score(tokenizer, texts): every row's tokens after the first are scored; the LM head runs at
            // each of the tokens - 1 positions fed (the last token is a target only).
            int tokens = Integer.parseInt(t.p("tokens", "0"));
            double tps = batch * (tokens - 1) / (ms / 1e3);
            double err = Double.isNaN(errMs) ? Double.NaN : tps * errMs / ms;
            String name = model.equals("bundled") ? "bundled opt125m-shape-f16" : model;
            if (s == null) {
                return new Row(t.workload(), t.system(), name, format, batch, threads, tps, "tok/s", err, Double.NaN,
                        Double.NaN, Double.NaN, Double.NaN, "score(tokenizer, texts) end to end");
            }
            double flops = s.prefillFlops(s.optMatmulParams(), 0, tokens - 1, batch);
            double peakTps = machine.peakGflops * 1e9 / (flops / (batch * (tokens - 1)));
            return new Row(t.workload(), t.system(), name, format, batch, threads, tps, "tok/s", err, Double.NaN, Double.NaN,
                    peakTps, tps / peakTps, String.format(Locale.ROOT, "score(tokenizer, texts): %.0f GFLOP/s of %.0f peak "
                            + "(LM head at every position; log-softmax in Java)", flops / (ms / 1e3) / 1e9, machine.peakGflops));
        }
        if (t.workload().startsWith("concurrent")) {
            // `sessions` Java threads generating at once on one model and one backend: aggregate tok/s.
            int n = Integer.parseInt(t.p("newTokens", "0"));
            int sessions = Integer.parseInt(t.p("sessions", "1"));
            double tps = sessions * n / (ms / 1e3);
            String threadsSeen = ConcurrencyBench.recorded(out, sessions, threads);
            return new Row(t.workload(), t.system(), t.p("model", "opt-125m"), "F16", sessions, threads, tps, "tok/s",
                    Double.isNaN(errMs) ? Double.NaN : tps * errMs / ms, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                    sessions + " Java threads × generate() on one shared model; "
                            + (threadsSeen == null ? "thread counts not recorded" : threadsSeen));
        }
        if (t.workload().startsWith("tokenize")) {
            String text = t.p("text", "english");
            double mb = TokenizerBench.utf8Bytes(text, Double.parseDouble(t.p("megabytes", "1"))) / 1e6;
            double mbs = mb / (ms / 1e3);
            return new Row(t.workload() + "-" + text, t.p("tokenizer", "?"), "opt-tokenizer", "-", 1, 1, mbs, "MB/s",
                    Double.isNaN(errMs) ? Double.NaN : mbs * errMs / ms, Double.NaN, Double.NaN, Double.NaN, Double.NaN, "");
        }
        if (t.workload().equals("load-tokenizer")) {
            // OptTokenizer.fromPretrained on the bundled vocab.json + merges.txt.
            return new Row(t.workload(), t.system(), "opt-tokenizer", "-", 1, 1, ms, "ms", errMs, Double.NaN, Double.NaN,
                    Double.NaN, Double.NaN, "");
        }
        if (t.workload().equals("downcall")) {
            return new Row(t.workload(), t.system(), model, format, 0, 1, toMs(t.score(), t.unit()) * 1e6, "ns", errMs * 1e6,
                    Double.NaN, Double.NaN, Double.NaN, Double.NaN, "");
        }
        // load: Panopt from a GGUF file is labelled as such (llama.cpp always loads GGUF), and with
        // the weights left where the file maps them (LoadOptions.repack(false)) as "kept".
        String label = (t.p("file", "hf").equals("gguf") ? format + " gguf" : format)
                + (t.p("repack", "true").equals("false") ? " kept" : "");
        return new Row(t.workload(), t.system(), model, label, batch, threads, ms, "ms", errMs, Double.NaN, Double.NaN,
                Double.NaN, Double.NaN, "");
    }

    /** The mean of a latency log, in ms (NaN where there is none). */
    static double meanMs(Path latencyFile) throws IOException {
        return Files.isRegularFile(latencyFile)
                ? Arrays.stream(LatencyLog.inOrder(latencyFile)).average().orElse(Double.NaN) / 1e6 : Double.NaN;
    }

    private Path latencyFile(Suite.Trial t, String model, String variant, int batch, int threads) {
        return out.resolve("latency").resolve(LatencyLog.key(t.system(), model, variant, batch, threads) + ".txt");
    }

    static double toMs(double v, String unit) {
        return switch (unit) {
            case "ns/op" -> v / 1e6;
            case "us/op" -> v / 1e3;
            case "ms/op" -> v;
            case "s/op" -> v * 1e3;
            default -> throw new IllegalArgumentException("unit " + unit);
        };
    }

    /** Panopt F16's figure in the row's group ÷ the row's (or the inverse for times); NaN if absent. */
    double panoptRatio(Row r) {
        Row ref = reference(r.group());
        if (ref == null) return Double.NaN;
        return throughput(r) ? ref.value / r.value : r.value / ref.value;
    }

    static boolean throughput(Row r) {
        return r.unit.equals("tok/s") || r.unit.equals("MB/s");
    }

    Row reference(String group) {
        Row any = null;
        for (Row x : rows) {
            if (x.group().equals(group) && x.system.equals("panopt")) {
                if (x.format.equals(REF_FORMAT)) return x;
                any = any == null ? x : any;
            }
        }
        return any != null && any.format.equals("-") ? any : null;
    }

    static boolean isReference(Row r) {
        return r.system.equals("panopt") && (r.format.equals(REF_FORMAT) || r.format.equals("-"));
    }

    void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("results.json"), json());
        Files.writeString(dir.resolve("RESULTS.md"), markdown());
    }

    // ------------------------------------------------------------------ JSON

    String json() {
        StringBuilder b = new StringBuilder("{\n  \"date\": ").append(q(date)).append(",\n  \"machine\": ").append(machineJson())
                .append(",\n  \"smoke\": ").append(smoke).append(",\n  \"records\": [\n");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            b.append("    {\"workload\": ").append(q(r.workload)).append(", \"system\": ").append(q(r.system))
                    .append(", \"model\": ").append(q(r.model)).append(", \"format\": ").append(q(r.format))
                    .append(", \"batch\": ").append(r.batch).append(", \"threads\": ").append(r.threads)
                    .append(", \"value\": ").append(num(r.value)).append(", \"unit\": ").append(q(r.unit))
                    .append(", \"error\": ").append(num(r.error))
                    .append(", \"p50_ms\": ").append(num(r.p50ms)).append(", \"p99_ms\": ").append(num(r.p99ms))
                    .append(", \"floor\": ").append(num(r.floor)).append(", \"floor_fraction\": ").append(num(r.floorFraction))
                    .append(", \"floor_basis\": ").append(q(r.floorNote))
                    .append(", \"trial_read_gbps\": ").append(num(r.trialReadGbps))
                    .append(", \"trial_floor_fraction\": ").append(num(r.trialFloorFraction))
                    .append(", \"bracketed_floor_fraction\": ").append(num(r.bracketed.fraction()))
                    .append(", \"shared_l3_floor_fraction\": ").append(num(r.bracketed.sharedL3()))
                    .append(", \"separate_l3_floor_fraction\": ").append(num(r.bracketed.separateL3()))
                    .append(", \"handoff_ns\": ").append(num(r.bracketed.handoffNs()))
                    .append(", \"ratio_vs\": {");
            // Panopt rows: Panopt ÷ each peer of the group; peer rows: Panopt F16 ÷ this row.
            List<String> parts = new ArrayList<>();
            if (r.system.equals("panopt")) {
                for (Row x : rows) {
                    if (x.group().equals(r.group()) && !x.system.equals("panopt")) {
                        double ratio = throughput(r) ? r.value / x.value : x.value / r.value;
                        parts.add(q(x.system + "/" + x.format) + ": " + num(ratio));
                    }
                }
            } else {
                parts.add(q("panopt/" + REF_FORMAT) + ": " + num(panoptRatio(r)));
            }
            b.append(String.join(", ", parts)).append("}, \"machine\": ").append(q(machine.cpu)).append(", \"date\": ").append(q(date)).append('}');
            b.append(i + 1 < rows.size() ? ",\n" : "\n");
        }
        b.append("  ],\n  \"missing\": [");
        for (int i = 0; i < missing.size(); i++) {
            b.append(i == 0 ? "" : ", ").append(q(missing.get(i)));
        }
        return b.append("]\n}\n").toString();
    }

    String machineJson() {
        Machine m = machine;
        return String.format(Locale.ROOT, "{\"cpu\": %s, \"logical_cpus\": %d, \"isa\": %s, \"memory_bytes\": %d, \"jdk\": %s, \"os\": %s, "
                        + "\"threads\": %d, \"peak_f32_gflops_1t\": %s, \"peak_f32_gflops\": %s, \"peak_int8_gops\": %s, \"peak_bf16_gflops\": %s, \"read_gbps_1t\": %s, \"read_gbps_2t\": %s, "
                        + "\"read_gbps_1t_probes\": %s, \"read_gbps_2t_probes\": %s}",
                q(m.cpu), m.logicalCpus, q(m.isa), m.memBytes, q(m.jdk), q(m.os), m.threads, num(m.peakGflops1), num(m.peakGflops),
                num(m.peakInt8Gops), num(m.peakBf16Gflops), num(m.readGbps1()), num(m.readGbps2()), nums(m.reads1), nums(m.reads2));
    }

    static String q(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    static String nums(List<Double> v) {
        return "[" + String.join(", ", v.stream().map(Report::num).toList()) + "]";
    }

    static String num(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? "null" : String.format(Locale.ROOT, "%.6g", v);
    }

    // ------------------------------------------------------------------ Markdown

    static String f(double v) {
        if (Double.isNaN(v)) return "–";
        if (Math.abs(v) >= 100) return String.format(Locale.ROOT, "%.0f", v);
        if (Math.abs(v) >= 10) return String.format(Locale.ROOT, "%.1f", v);
        return String.format(Locale.ROOT, "%.2f", v);
    }

    static String pct(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.0f%%", 100 * v);
    }

    String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("# Panopt benchmark results").append(smoke ? " (SMOKE PASS — tiny shape, not a measurement)" : "").append("\n\n");
        b.append("Generated by `bench/run` (JMH 1.37, each trial in a forked JVM) on ").append(date).append(".\n\n");
        b.append("**Machine:** ").append(machine.cpu).append(", ").append(machine.logicalCpus).append(" logical CPUs [")
                .append(machine.isa).append("], ").append(machine.memBytes >> 30).append(" GiB; ").append(machine.jdk).append("; ")
                .append(machine.os).append(". All systems run with ").append(machine.threads).append(" threads.\n\n");
        b.append("> The machine is shared (2 cores, other builds may run at the same time), so figures are noisy: "
                + "treat differences under ~15% as noise, and compare ratios from the same run rather than absolute numbers across runs.\n\n");
        b.append("## Machine ceilings (measured in the same run by libpanopt_probe.so, before and after the trials)\n\n"
                + "Read bandwidth depends on where a buffer lands, so it is probed with fresh 1 GiB buffers several times; "
                + "the floors use the median. Peak FMA is the best reading.\n\n| probe | value | readings |\n|---|---|---|\n");
        b.append("| read bandwidth, 1 thread | ").append(f(machine.readGbps1())).append(" GB/s (median) | ").append(Machine.range(machine.reads1)).append(" |\n");
        b.append("| read bandwidth, 2 threads | ").append(f(machine.readGbps2())).append(" GB/s (median) | ").append(Machine.range(machine.reads2)).append(" |\n");
        if (!trialReadsSharedL3.isEmpty() || !trialReadsSeparateL3.isEmpty()) {
            b.append("| read bandwidth, 2 threads, in the decode trials, vCPUs sharing an L3 (hand-off < ")
                    .append(f(BracketedFloor.SHARED_L3_NS)).append(" ns) | ").append(f(Machine.median(trialReadsSharedL3)))
                    .append(" GB/s (median) | ").append(Machine.range(trialReadsSharedL3)).append(" |\n");
            b.append("| read bandwidth, 2 threads, in the decode trials, vCPUs not sharing an L3 | ")
                    .append(f(Machine.median(trialReadsSeparateL3))).append(" GB/s (median) | ")
                    .append(Machine.range(trialReadsSeparateL3)).append(" |\n");
        }
        b.append("| peak f32 FMA, 1 thread | ").append(f(machine.peakGflops1)).append(" GFLOP/s | best of 2 × 3 |\n");
        b.append("| peak f32 FMA, ").append(machine.threads).append(" threads | ").append(f(machine.peakGflops)).append(" GFLOP/s | best of 2 × 3 |\n");
        b.append("| peak int8 dot products, ").append(machine.threads).append(" threads | ").append(f(machine.peakInt8Gops))
                .append(" GOP/s | best of 2 × 3 (AMX tdpbssd where usable, else VNNI, else AVX2 vpmaddubsw+vpmaddwd) |\n");
        b.append("| peak bf16 dot products, ").append(machine.threads).append(" threads | ").append(f(machine.peakBf16Gflops))
                .append(" GFLOP/s | best of 2 × 3 (AVX512_BF16 vdpbf16ps; 0 without it) |\n\n");

        // Summary of ratios.
        b.append("## Panopt F16 ÷ peers (above 1 = Panopt faster)\n\n");
        List<String> peers = new ArrayList<>();
        for (Row r : rows) {
            if (!r.system.equals("panopt") && !peers.contains(r.label())) peers.add(r.label());
        }
        peers.sort(Comparator.comparingInt((String l) -> SYSTEM_ORDER.indexOf(l.substring(0, l.indexOf(' ')))).thenComparing(l -> l));
        b.append("| workload | model | batch | Panopt F16 (tokenizer: Panopt) |");
        for (String p : peers) b.append(' ').append(p).append(" |");
        b.append("\n|---|---|---|---|");
        b.append("---|".repeat(peers.size())).append('\n');
        Map<String, List<Row>> groups = new LinkedHashMap<>();
        for (Row r : rows) groups.computeIfAbsent(r.group(), k -> new ArrayList<>()).add(r);
        for (var g : groups.entrySet()) {
            Row ref = reference(g.getKey());
            if (ref == null || g.getValue().size() < 2) continue;
            b.append("| ").append(ref.workload).append(" | ").append(ref.model).append(" | ").append(ref.batch).append(" | ")
                    .append(f(ref.value)).append(' ').append(ref.unit).append(" |");
            for (String p : peers) {
                Row x = g.getValue().stream().filter(r -> r.label().equals(p)).findFirst().orElse(null);
                b.append(' ').append(x == null ? "" : f(panoptRatio(x))).append(" |");
            }
            b.append('\n');
        }
        b.append("\nThis table divides Panopt's F16 figure by each peer's; compare quantized formats like for like (Panopt Q8_0 "
                + "against llama.cpp Q8_0, ...) in the per-workload tables, whose rows name each format. The tokenizer rows compare Panopt's tokenizer, not F16. `capi` = llama.cpp's C API called directly through FFM (no wrapper); "
                + "`binding` = de.kherud:llama 4.2.0's public Java API.\n\n");

        // Per-workload tables.
        b.append("## Per workload\n\n");
        for (var g : groups.entrySet()) {
            Row first = g.getValue().get(0);
            b.append("### ").append(first.workload).append(" — ").append(first.model);
            if (!first.workload.equals("downcall") && !first.workload.startsWith("load")) b.append(", batch ").append(first.batch);
            b.append("\n\n");
            boolean decode = first.workload.startsWith("decode");
            boolean tput = first.unit.equals("tok/s");
            b.append("| system | format | threads | ").append(first.unit).append(" | ±");
            if (decode) b.append(" | p50 ms/step | p99 ms/step");
            if (tput) b.append(" | floor tok/s | of floor | floor basis");
            b.append(first.unit.equals("MB/s") ? " | Panopt ÷ this |\n|---|---|---|---|---" : " | Panopt F16 ÷ this |\n|---|---|---|---|---");
            if (decode) b.append("|---|---");
            if (tput) b.append("|---|---|---");
            b.append("|---|\n");
            for (Row r : g.getValue()) {
                b.append("| ").append(r.system).append(" | ").append(r.format).append(" | ").append(r.threads > 0 ? String.valueOf(r.threads) : "–").append(" | ")
                        .append(f(r.value)).append(" | ").append(f(r.error));
                if (decode) b.append(" | ").append(f(r.p50ms)).append(" | ").append(f(r.p99ms));
                if (tput) b.append(" | ").append(f(r.floor)).append(" | ").append(pct(r.floorFraction)).append(" | ").append(r.floorNote);
                b.append(" | ").append(isReference(r) ? "1" : f(panoptRatio(r))).append(" |\n");
            }
            b.append('\n');
        }

        b.append("## How these were measured\n\n");
        b.append("""
                - **Models.** Synthetic checkpoints with seeded random weights at OPT's real shapes (generated on demand into \
                `~/.cache/panopt/bench`, never committed): opt-125m 768/12/12/3072, opt-350m 1024/24/16/4096 with project_in/out 512↔1024 \
                and post-LN, opt-1.3b 2048/24/32/8192, vocab 50272. llama.cpp has no OPT architecture, so it runs a **GPT-2 twin** \
                (GGUF written by the bench with the library's GgufWriter and Quantizer, whose blocks are ggml's bytes; Q8_0/Q4_0 twins hold every \
                matrix and the head in that format, the Q4_K_M twin llama.cpp's own Q4_K_M mix for GPT-2) with the same hidden size, layers, heads, \
                ffn and vocabulary: the same per-token work (GELU instead of ReLU, fused QKV). **opt-350m's twin is a plain GPT-2 of hidden 1024**: \
                GPT-2 cannot express project_in/out or post-LN, and its LM head is 50272×1024 instead of 50272×512 (more bytes per token). \
                Jlama runs the same GPT-2 twin as an F32 safetensors directory.
                - **Prefill** = one forward over `tokens` tokens per row from an empty cache, logits at the last position only (what generation needs; \
                llama.cpp likewise asks logits for each row's last token). tok/s counts all rows. Floor = the peak of the unit the matmuls run on (int8 dot products for block formats, else f32 FMA \
                or, with bf16 compute, bf16 dot products); the flops are \
                2·(matmul params − LM head)·tokens + 2·LM head (logits at the last position only) plus causal attention. Through the binding, prefill is a request with 1 new token (its smallest).
                - **Decode** = 128 new tokens per row, greedy, with the KV cache, after a 32-token prompt that is prefilled outside the measurement \
                (Panopt, llama.cpp C API, Jlama) — one step = one token for every row; Panopt and the C API use the same Java argmax over the logits. \
                tok/s = batch ÷ mean step time; p50/p99 are per-step latencies over all measured steps. The binding streams one request \
                (prompt + 128 tokens); its per-token latency is the gap between streamed tokens. Floor = (weight bytes read per step + KV bytes \
                at the mean context (32+64) × batch) ÷ measured 2-thread read bandwidth (median probe) — or, when longer (batch 8), the step's \
                compute: 2·matmul params·batch at the peak of the unit the matmuls run on (int8 dot products for block formats, f32 FMA \
                otherwise) plus attention at the f32 FMA rate —, fractions above 100% mean the bandwidth of that moment beat the median probe (see the readings' range); \
                the basis also gives the fraction of the floor at the read bandwidth the trial's own process measured before each \
                of its measurement iterations (512 MB, best of 2 passes; `trial_read_gbps`, `trial_floor_fraction` in results.json), \
                the bandwidth that trial had on a shared machine; \
                with weight bytes = matmul weights + LM head in the format \
                (F16 2 B, F32 4 B, Q8_0 34/32 B, Q4_0 18/32 B, a mix such as Q4_K_M counted tensor by tensor), KV f32 for Panopt and Jlama, f16 for llama.cpp.
                - **Load** = open the checkpoint until the model is usable, then free it (files already in the page cache): Panopt \
                `OptForCausalLM.fromPretrained` (safetensors F16, or a GGUF file Panopt converted, `gguf`; both mapped, block formats handed to \
                native code without a copy) + a 512-position session; llama.cpp `llama_model_load_from_file` + a 512-position context (mmap).
                - **Downcall** = `Panopt.nativeAbiVersion()`, one FFM downcall of a trivial function.
                - **load-tokenizer** = `OptTokenizer.fromPretrained` on the bundled vocab.json + merges.txt (files in the page cache), \
                steady state in a warmed-up JVM; a command's first load, in a cold JVM, costs several times this.
                - Threads: every system gets the same thread count; llama.cpp's `n_threads` and `n_threads_batch`, Panopt's `BackendOptions.threads`, \
                Jlama's thread count. With 2 cores the binding's server thread competes with its 2 compute threads.
                """);
        if (!trimmed.isEmpty()) {
            b.append("\n## Trimmed to fit the 35-minute budget\n\n");
            for (String t : trimmed) b.append("- ").append(t).append('\n');
        }
        b.append("\n## Could not run\n\n");
        for (String u : unsupported) b.append("- ").append(u).append('\n');
        if (missing.isEmpty()) {
            b.append(unsupported.isEmpty() ? "" : "\n").append("Every planned trial produced a result.\n");
        } else {
            for (String m : missing) b.append("- ").append(m).append(" (see bench/target/bench-out/jmh.log.*)\n");
        }
        if (!notes.isEmpty()) {
            b.append("\n## Notes on this run\n\n");
            for (String n : notes) b.append("- ").append(n).append('\n');
        }
        b.append("\n## Tokenizer\n\n`tokenize-*` rows: Panopt's `OptTokenizer` vs Hugging Face tokenizers (Rust) through DJL 0.33.0 "
                + "(`encode`, which also builds tokens, offsets and masks), same OPT vocabulary, ~2 KB paragraphs, no special tokens. "
                + "The English text is the repository's prose repeated to 4 MB, which favours per-word caches. "
                + "The two agree on every Unicode paragraph; English paragraphs with a literal `<s>`/`</s>` differ (HF matches special "
                + "tokens inside text, `OptTokenizer.encode(text, false)` does not).\n");
        b.append("\nJMH's own JSON results are in `bench/target/bench-out/jmh/`, per-step decode latencies in `bench/target/bench-out/latency/`.\n");
        return b.toString();
    }
}
