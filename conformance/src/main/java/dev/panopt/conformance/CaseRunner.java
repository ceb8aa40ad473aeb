package dev.panopt.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.panopt.BaseModelOutput;
import dev.panopt.CausalLMOutput;
import dev.panopt.ClassificationLabels;
import dev.panopt.Backend;
import dev.panopt.LoadOptions;
import dev.panopt.OptForQuestionAnswering;
import dev.panopt.OptForSequenceClassification;
import dev.panopt.OptModel;
import dev.panopt.QuestionAnsweringOutput;
import dev.panopt.SequenceClassifierOutput;
import dev.panopt.FloatTensor;
import dev.panopt.ForwardOptions;
import dev.panopt.ForwardRequest;
import dev.panopt.OptForCausalLM;
import dev.panopt.PastKeyValues;
import dev.panopt.Quantization;
import dev.panopt.checkpoint.Checkpoint;
import dev.panopt.Session;
import dev.panopt.SessionOptions;
import dev.panopt.DType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs the calls a case.json describes through the public API and compares every stored output
 * it can produce; outputs it cannot produce are listed as skipped, with the reason.
 *
 * <p>With a {@link Quantization} the models are loaded with quantized weights (or, with the compute type
 * {@link DType#BF16}, run with bf16 products in their prompts) and only the logits are judged, as
 * distributions against {@link QuantizationBounds} ({@link DistributionCompare});
 * hidden states, attentions, caches and losses are listed as skipped, integer outputs that do not
 * depend on the weights (pooled indices) are still compared exactly, and the greedy procedure is
 * judged by its step logits, teacher-forced on the reference tokens (free-running agreement is a note).
 */
final class CaseRunner {
    private static final Pattern PAST_OF_CALL = Pattern.compile("past_key_values of call '([^']+)'");
    private static final String NOT_JUDGED = "not compared with quantized weights or bf16 products (only logits are; see "
            + "QuantizationBounds)";

    private final LoadOptions load;
    private final LoadOptions unquantized;
    private final boolean quantized; // quantized weights or bf16 products: logits judged against QuantizationBounds
    private final boolean bf16;
    private final SessionOptions sessions; // of the judged model's sessions (its compute type)
    private final Path writeOutputs;

    /** @param backend where every case's model computes (the caller closes it) */
    CaseRunner(Backend backend) {
        this(backend, Quantization.NONE, null);
    }

    /**
     * @param backend      where every case's model computes (the caller closes it)
     * @param quantization how the models' weights are stored; {@link Quantization#NONE} compares element-wise
     * @param writeOutputs where to write what each case computed in the outputs protocol's layout, or null
     *                     (only without quantization: the protocol carries outputs comparable element-wise)
     */
    CaseRunner(Backend backend, Quantization quantization, Path writeOutputs) {
        this(backend, quantization, DType.F32, writeOutputs);
    }

    /**
     * @param backend      where every case's model computes (the caller closes it)
     * @param quantization how the models' weights are stored; {@link Quantization#NONE} compares element-wise
     * @param computeType  the sessions' {@link SessionOptions#computeType()}: F32, or BF16 (judged as
     *                     distributions, as quantized weights are)
     * @param writeOutputs where to write what each case computed in the outputs protocol's layout, or null
     *                     (only for an exact run: the protocol carries outputs comparable element-wise)
     */
    CaseRunner(Backend backend, Quantization quantization, DType computeType, Path writeOutputs) {
        this.sessions = SessionOptions.builder().computeType(computeType).build();
        this.load = LoadOptions.builder().backend(backend).quantization(quantization).sessionOptions(sessions).build();
        this.unquantized = LoadOptions.builder().backend(backend).build();
        this.bf16 = computeType == DType.BF16;
        this.quantized = !quantization.keepsEverything() || bf16;
        if (quantized && writeOutputs != null) {
            throw new IllegalArgumentException("outputs are written for the exact (unquantized, f32) run only");
        }
        this.writeOutputs = writeOutputs;
    }

    CaseResult run(Path caseDir) {
        return run(caseDir, caseDir);
    }

    /** Runs the case in {@code caseDir} on the model loaded from {@code model} (e.g. the case converted to GGUF). */
    CaseResult run(Path caseDir, Path model) {
        String name = caseDir.getFileName().toString();
        try (Fixture f = Fixture.open(caseDir, model)) {
            return switch (f.modelClass()) {
                case "OPTForCausalLM" -> runCausal(f);
                case "OPTForSequenceClassification" -> runSequenceClassification(f);
                case "OPTForQuestionAnswering" -> runQuestionAnswering(f);
                default -> CaseResult.skipped(name, "model class " + f.modelClass() + " is not supported by this build");
            };
        } catch (Exception | OutOfMemoryError e) {
            return CaseResult.of(name, List.of(), List.of(), Compare.describe(e));
        }
    }

    private final class Collector {
        final Fixture f;
        final List<Compare.TensorResult> results = new ArrayList<>();
        final List<String> skipped = new ArrayList<>();
        final List<DistributionCompare.Result> distributions = new ArrayList<>();
        final List<String> notes = new ArrayList<>();
        final OutputTensors produced = new OutputTensors();
        QuantizationBounds bounds; // set once the model is loaded, with quantized weights

        Collector(Fixture f) {
            this.f = f;
        }

        /** With quantized weights: the bounds of {@code model}'s weights, and notes on them. */
        void quantizedModel(dev.panopt.OptPreTrainedModel model) throws java.io.IOException {
            if (!quantized) {
                return;
            }
            try (Checkpoint ck = Checkpoint.open(f.model)) {
                bounds = QuantizationBounds.of(ck, model.loadReport(), bf16);
            }
            notes.add(model.loadReport().summary() + (bf16 ? "; bf16 products in prompts" : ""));
            notes.add(String.format(java.util.Locale.ROOT, "predicted relative RMS logit error ρ_z = %.3e; largest: %s",
                    bounds.rhoLogits(), String.join("; ", bounds.largestContributions())));
        }

        /** Logits (positions over the last dimension): element-wise, or as distributions with quantized weights. */
        void logits(String call, String expectedName, float[] got, boolean[] include) {
            if (!quantized) {
                floats0(call, expectedName, got);
                return;
            }
            distributions.add(DistributionCompare.compare(call, expectedName, f.shape(expectedName), got,
                    f.floats(expectedName), include, bounds));
        }

        void logits(String call, String expectedName, FloatTensor got, boolean[] include) {
            if (!quantized) {
                tensor(call, expectedName, got);
                return;
            }
            long[] es = f.shape(expectedName);
            if (!java.util.Arrays.equals(es, got.shape())) {
                distributions.add(DistributionCompare.failed(call, expectedName, es, "shape "
                        + java.util.Arrays.toString(got.shape()) + " instead of " + java.util.Arrays.toString(es)));
                return;
            }
            logits(call, expectedName, got.toFloatArray(), include);
        }

        void floats(String call, String expectedName, float[] got) {
            if (quantized) {
                skipped.add(call + "/" + expectedName + ": " + NOT_JUDGED);
                return;
            }
            floats0(call, expectedName, got);
        }

        private void floats0(String call, String expectedName, float[] got) {
            double[] g = Compare.toDouble(got);
            produced.floats(expectedName, f.shape(expectedName), g);
            results.add(Compare.compare(call, expectedName, f.shape(expectedName), g,
                    Compare.toDouble(f.floats(expectedName)), Compare.toleranceFor(expectedName, false)));
        }

        void tensor(String call, String expectedName, FloatTensor got) {
            if (quantized) {
                skipped.add(call + "/" + expectedName + ": " + NOT_JUDGED);
                return;
            }
            long[] es = f.shape(expectedName);
            if (!java.util.Arrays.equals(es, got.shape())) {
                produced.floats(expectedName, got.shape(), Compare.toDouble(got.toFloatArray()));
                results.add(new Compare.TensorResult(call, expectedName, es, Double.NaN, Double.NaN,
                        Compare.toleranceFor(expectedName, false), 1,
                        "shape " + java.util.Arrays.toString(got.shape()) + " instead of " + java.util.Arrays.toString(es)));
                return;
            }
            floats(call, expectedName, got.toFloatArray());
        }

        void scalar(String call, String expectedName, double got) {
            if (quantized) {
                skipped.add(call + "/" + expectedName + ": " + NOT_JUDGED);
                return;
            }
            produced.floats(expectedName, f.shape(expectedName), new double[] {got});
            results.add(Compare.compare(call, expectedName, f.shape(expectedName), new double[] {got},
                    Compare.toDouble(f.floats(expectedName)), Compare.toleranceFor(expectedName, false)));
        }

        void ints(String call, String expectedName, long[] got) {
            produced.longs(expectedName, f.shape(expectedName), Compare.toDouble(got));
            results.add(Compare.compare(call, expectedName, f.shape(expectedName), Compare.toDouble(got),
                    Compare.toDouble(f.longs(expectedName)), Compare.Tolerance.EXACT));
        }

        /** The case's result; with {@code writeOutputs}, what it computed is written there first. */
        CaseResult result(String error) {
            if (writeOutputs != null) {
                try {
                    produced.write(writeOutputs, f.name);
                } catch (java.io.IOException e) {
                    error = (error == null ? "" : error + "; ") + "cannot write outputs: " + Compare.describe(e);
                }
            }
            return CaseResult.of(f.name, results, skipped, distributions, notes, error);
        }

        void skip(String call, JsonNode outputs, String reason) {
            for (String n : expectedNames(outputs)) {
                skipped.add(call + "/" + n + ": " + reason);
            }
        }
    }

    /** Every stored tensor name an "outputs" node mentions. */
    static List<String> expectedNames(JsonNode outputs) {
        List<String> names = new ArrayList<>();
        collect(outputs, names);
        return names;
    }

    private static void collect(JsonNode n, List<String> names) {
        if (n.isTextual()) {
            String s = n.asText();
            int sp = s.indexOf(' ');
            int br = s.indexOf('[');
            int cut = sp < 0 ? br : br < 0 ? sp : Math.min(sp, br);
            names.add(cut < 0 ? s : s.substring(0, cut));
        } else if (n.isArray()) {
            n.forEach(c -> collect(c, names));
        } else if (n.isObject()) {
            n.fields().forEachRemaining(e -> collect(e.getValue(), names));
        }
    }

    private CaseResult runCausal(Fixture f) throws Exception {
        Collector col = new Collector(f);
        String error = null;
        Map<String, Session> sessions = new HashMap<>();
        try (OptForCausalLM model = OptForCausalLM.fromPretrained(f.model, load)) {
            col.quantizedModel(model);
            for (JsonNode call : f.caseJson.get("calls")) {
                String id = call.path("id").asText();
                JsonNode outputs = call.path("outputs");
                if (call.has("procedure")) {
                    greedy(model, f, col, id, outputs);
                    continue;
                }
                JsonNode in = call.path("inputs");
                if (in.has("inputs_embeds")) {
                    if (quantized) {
                        col.skip(id, outputs, NOT_JUDGED);
                    } else {
                        baseModelEmbeds(f, col, id, in, outputs);
                    }
                    continue;
                }
                Session session;
                String pastRef = in.path("past_key_values").asText(null);
                if (pastRef != null) {
                    Matcher m = PAST_OF_CALL.matcher(pastRef);
                    if (!m.matches() || !sessions.containsKey(m.group(1))) {
                        col.skip(id, outputs, "cannot resolve " + pastRef);
                        continue;
                    }
                    session = sessions.get(m.group(1));
                } else {
                    session = model.newSession();
                }
                JsonNode opt = call.path("options");
                boolean useCache = opt.path("use_cache").asBoolean(false) || pastRef != null;
                ForwardOptions.Builder fo = ForwardOptions.builder()
                        .outputHiddenStates(opt.path("output_hidden_states").asBoolean(false))
                        .outputAttentions(opt.path("output_attentions").asBoolean(false))
                        .useCache(useCache);
                if (in.has("head_mask")) {
                    fo.headMask(f.floats2(in.get("head_mask").asText()));
                }
                int[][] ids = f.ints2(in.path("input_ids").asText());
                int[][] mask = in.has("attention_mask") ? f.ints2(in.get("attention_mask").asText()) : null;
                int[][] labels = in.has("labels") ? f.ints2(in.get("labels").asText()) : null;
                try (CausalLMOutput out = model.forward(ForwardRequest.inputIds(ids).attentionMask(mask).labels(labels).session(session).options(fo.build()).build())) {
                    Iterator<Map.Entry<String, JsonNode>> it = outputs.fields();
                    while (it.hasNext()) {
                        Map.Entry<String, JsonNode> e = it.next();
                        causalOutput(f, col, id, e.getKey(), e.getValue(), out, session, mask);
                    }
                }
                sessions.put(id, session);
            }
        } catch (RuntimeException e) {
            error = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        return col.result(error);
    }

    /**
     * Which positions of logits [rows, seq, vocab] are real tokens: the last {@code seq} columns of
     * the attention mask (it spans cached positions too); all when there is no mask.
     */
    static boolean[] realPositions(int[][] mask, int rows, int seq) {
        if (mask == null) {
            return null;
        }
        boolean[] keep = new boolean[rows * seq];
        for (int b = 0; b < rows; b++) {
            int w = mask[b].length;
            for (int t = 0; t < seq; t++) {
                keep[b * seq + t] = mask[b][w - seq + t] != 0;
            }
        }
        return keep;
    }

    private static void causalOutput(Fixture f, Collector col, String call, String key, JsonNode target,
                                     CausalLMOutput out, Session session, int[][] mask) {
        switch (key) {
            case "logits" -> col.logits(call, target.asText(), out.logits(),
                    realPositions(mask, (int) out.logits().size(0), (int) out.logits().size(1)));
            case "loss" -> col.scalar(call, target.asText(), out.loss().orElse(Double.NaN));
            case "hidden_states" -> {
                for (int i = 0; i < target.size(); i++) {
                    col.tensor(call, target.get(i).asText(), out.hiddenStates().get(i));
                }
            }
            case "attentions" -> {
                for (int i = 0; i < target.size(); i++) {
                    col.tensor(call, target.get(i).asText(), out.attentions().get(i));
                }
            }
            case "past_key_values" -> {
                try (PastKeyValues pkv = session.pastKeyValues()) {
                    for (int l = 0; l < target.size(); l++) {
                        col.tensor(call, target.get(l).get(0).asText(), pkv.keys().get(l));
                        col.tensor(call, target.get(l).get(1).asText(), pkv.values().get(l));
                    }
                }
            }
            case "last_logits" -> {
                // "logits[b, last_index[b], :]"
                long[] last = f.longs("last_index");
                FloatTensor logits = out.logits();
                int vocab = (int) logits.size(2);
                float[] got = new float[last.length * vocab];
                for (int b = 0; b < last.length; b++) {
                    System.arraycopy(logits.row(b, last[b]), 0, got, b * vocab, vocab);
                }
                col.logits(call, key, got, null);
            }
            case "row0_logits" -> {
                // "logits[0:1]"
                FloatTensor logits = out.logits();
                int n = (int) (logits.size(1) * logits.size(2));
                float[] got = new float[n];
                logits.copyTo(0, got);
                col.logits(call, key, got, mask == null ? null : realPositions(new int[][] {mask[0]}, 1,
                        (int) logits.size(1)));
            }
            default -> col.skipped.add(call + "/" + key + ": output not supported by this build");
        }
    }

    /** HF calls the base OPTModel (the `model` attribute) with inputs_embeds. */
    private void baseModelEmbeds(Fixture f, Collector col, String call, JsonNode in, JsonNode outputs)
            throws java.io.IOException {
        LoadOptions lo = load;
        try (OptModel base = OptModel.fromPretrained(f.model, lo); Session s = base.newSession()) {
            int[][] mask = in.has("attention_mask") ? f.ints2(in.get("attention_mask").asText()) : null;
            try (BaseModelOutput out = base.forward(ForwardRequest.inputsEmbeds(f.floats3(in.get("inputs_embeds").asText())).attentionMask(mask).session(s).build())) {
                Iterator<Map.Entry<String, JsonNode>> it = outputs.fields();
                while (it.hasNext()) {
                    Map.Entry<String, JsonNode> e = it.next();
                    if (e.getKey().equals("last_hidden_state")) {
                        col.tensor(call, e.getValue().asText(), out.lastHiddenState());
                    } else {
                        col.skipped.add(call + "/" + e.getKey() + ": output not supported by this build");
                    }
                }
            }
        }
    }

    /** One call of a task-head case: compute, then compare each named output. */
    @FunctionalInterface
    private interface TaskCall {
        void run(String id, JsonNode in, Map<String, JsonNode> outputs, Collector col, int[][] ids, int[][] mask);
    }

    /** Runs every call of {@code f} through {@code body}; an exception fails the case with its message. */
    private CaseResult runCalls(Fixture f, dev.panopt.OptPreTrainedModel model, TaskCall body) throws java.io.IOException {
        Collector col = new Collector(f);
        col.quantizedModel(model);
        String error = null;
        try {
            for (JsonNode call : f.caseJson.get("calls")) {
                JsonNode in = call.path("inputs");
                Map<String, JsonNode> outputs = new java.util.LinkedHashMap<>();
                call.path("outputs").fields().forEachRemaining(e -> outputs.put(e.getKey(), e.getValue()));
                int[][] ids = f.ints2(in.path("input_ids").asText());
                int[][] mask = in.has("attention_mask") ? f.ints2(in.get("attention_mask").asText()) : null;
                body.run(call.path("id").asText(), in, outputs, col, ids, mask);
            }
        } catch (RuntimeException e) {
            error = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        return col.result(error);
    }

    private CaseResult runSequenceClassification(Fixture f) throws Exception {
        LoadOptions lo = load;
        try (OptForSequenceClassification model = OptForSequenceClassification.fromPretrained(f.model, lo);
             Session s = model.newSession()) {
            return runCalls(f, model, (id, in, outputs, col, ids, mask) -> {
                ClassificationLabels labels = in.has("labels") ? classificationLabels(f, in.get("labels").asText()) : null;
                try (SequenceClassifierOutput out = model.forward(ForwardRequest.inputIds(ids).attentionMask(mask).labels(labels).session(s).build())) {
                    if (f.has("pooled_index")) {
                        col.ints(id, "pooled_index", java.util.Arrays.stream(out.pooledIndex()).asLongStream().toArray());
                    }
                    outputs.forEach((key, target) -> {
                        switch (key) {
                            case "logits" -> col.logits(id, "logits", out.logits(), null);
                            case "loss" -> col.scalar(id, target.asText(), out.loss().orElse(Double.NaN));
                            default -> col.skipped.add(id + "/" + key + ": output not supported by this build");
                        }
                    });
                }
            });
        }
    }

    private static ClassificationLabels classificationLabels(Fixture f, String name) {
        long[] shape = f.shape(name);
        if (f.isInteger(name)) {
            return ClassificationLabels.classIds(java.util.Arrays.stream(f.longs(name)).mapToInt(Math::toIntExact).toArray());
        }
        return shape.length == 1 ? ClassificationLabels.values(f.floats(name)) : ClassificationLabels.matrix(f.floats2(name));
    }

    private CaseResult runQuestionAnswering(Fixture f) throws Exception {
        LoadOptions lo = load;
        try (OptForQuestionAnswering model = OptForQuestionAnswering.fromPretrained(f.model, lo);
             Session s = model.newSession()) {
            return runCalls(f, model, (id, in, outputs, col, ids, mask) -> {
                int[] start = in.has("start_positions") ? ints1(f, in.get("start_positions").asText()) : null;
                int[] end = in.has("end_positions") ? ints1(f, in.get("end_positions").asText()) : null;
                try (QuestionAnsweringOutput out = model.forward(ForwardRequest.inputIds(ids).attentionMask(mask).startPositions(start).endPositions(end).session(s).build())) {
                    outputs.forEach((key, target) -> {
                        switch (key) {
                            case "start_logits" -> col.logits(id, target.asText(), out.startLogits(), null);
                            case "end_logits" -> col.logits(id, target.asText(), out.endLogits(), null);
                            case "loss" -> col.scalar(id, target.asText(), out.loss().orElse(Double.NaN));
                            default -> col.skipped.add(id + "/" + key + ": output not supported by this build");
                        }
                    });
                }
            });
        }
    }

    private static int[] ints1(Fixture f, String name) {
        return java.util.Arrays.stream(f.longs(name)).mapToInt(Math::toIntExact).toArray();
    }

    /** argmax decoding with the cache, one token per call, no EOS stop (the fixtures' procedure). */
    private void greedy(OptForCausalLM model, Fixture f, Collector col, String call, JsonNode outputs)
            throws java.io.IOException {
        if (!f.has("greedy_prompt_ids") || !f.has("greedy_ids")) {
            col.skip(call, outputs, "greedy inputs missing");
            return;
        }
        int[][] prompt = f.ints2("greedy_prompt_ids");
        int n = (int) f.shape("greedy_ids")[1];
        int vocab = model.config().vocabSize();
        if (quantized) {
            greedyQuantized(model, f, col, call, prompt, n, vocab);
            return;
        }
        long[] produced = new long[n];
        float[] stepLogits = new float[n * vocab];
        ForwardOptions cached = ForwardOptions.builder().useCache(true).build();
        try (Session s = model.newSession(sessions.toBuilder().maxBatch(1).build())) {
            int[][] input = prompt;
            int total = prompt[0].length;
            for (int i = 0; i < n; i++) {
                int[][] mask = new int[1][total];
                java.util.Arrays.fill(mask[0], 1);
                try (CausalLMOutput out = model.forward(ForwardRequest.inputIds(input).attentionMask(mask).session(s).options(cached).build())) {
                    float[] last = out.logits().row(0, out.logits().size(1) - 1);
                    System.arraycopy(last, 0, stepLogits, i * vocab, vocab);
                    int best = argmax(last);
                    produced[i] = best;
                    input = new int[][] {{best}};
                    total++;
                }
            }
        }
        col.ints(call, "greedy_ids", produced);
        // The same through the public generate() (greedy, no EOS stop, as the reference ran).
        col.ints("generate", "greedy_ids", greedyIds(model, prompt, n));
        if (f.has("greedy_step_logits")) {
            col.floats(call, "greedy_step_logits", stepLogits);
        }
    }

    /**
     * With quantized weights a greedy run may leave the reference's path where two tokens are
     * closer than the error bound, after which nothing is comparable; so the step logits are
     * computed teacher-forced on the reference tokens and judged as distributions (the top-1 check
     * covers the greedy choice at every decisive step). The reference step logits are the stored ones,
     * else Panopt's with the checkpoint's own weights (the non-quantized run checks those against the
     * reference's tokens). How far the free-running greedy tokens agree is a note.
     */
    private void greedyQuantized(OptForCausalLM model, Fixture f, Collector col, String call, int[][] prompt, int n,
                                 int vocab) throws java.io.IOException {
        long[] reference = f.longs("greedy_ids");
        float[] got = teacherForced(model, sessions, prompt[0], reference);
        float[] ref;
        String name;
        if (f.has("greedy_step_logits")) {
            ref = f.floats("greedy_step_logits");
            name = "greedy_step_logits";
        } else {
            try (OptForCausalLM plain = OptForCausalLM.fromPretrained(f.model, unquantized)) {
                ref = teacherForced(plain, SessionOptions.DEFAULT, prompt[0], reference);
            }
            name = "greedy step logits (F32 Panopt)";
        }
        col.distributions.add(DistributionCompare.compare(call, name, new long[] {n, vocab}, got, ref, null, col.bounds));
        long[] free = greedyIds(model, prompt, n);
        int same = 0;
        while (same < n && free[same] == reference[same]) {
            same++;
        }
        col.notes.add("greedy (free-running): " + same + " of " + n + " tokens as the reference");
    }

    /** The logits before each of {@code next} (teacher forcing): row i predicts next[i] after prompt + next[0..i). */
    private static float[] teacherForced(OptForCausalLM model, SessionOptions options, int[] prompt, long[] next) {
        int vocab = model.config().vocabSize();
        float[] out = new float[next.length * vocab];
        ForwardOptions cached = ForwardOptions.builder().useCache(true).build();
        try (Session s = model.newSession(options.toBuilder().maxBatch(1).build())) {
            int[] input = prompt;
            int total = prompt.length;
            for (int i = 0; i < next.length; i++) {
                int[][] mask = new int[1][total];
                java.util.Arrays.fill(mask[0], 1);
                try (CausalLMOutput o = model.forward(ForwardRequest.inputIds(new int[][] {input}).attentionMask(mask)
                        .session(s).options(cached).build())) {
                    System.arraycopy(o.logits().row(0, o.logits().size(1) - 1), 0, out, i * vocab, vocab);
                }
                input = new int[] {Math.toIntExact(next[i])};
                total++;
            }
        }
        return out;
    }

    /** {@code n} greedy tokens through the public generate() (no EOS stop, as the reference ran). */
    static long[] greedyIds(OptForCausalLM model, int[][] prompt, int n) {
        dev.panopt.GenerationResult gen = model.generate(prompt, null,
                dev.panopt.GenerationConfig.builder().maxNewTokens(n).eosTokenIds().build());
        return java.util.Arrays.stream(gen.tokens(0)).asLongStream().toArray();
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
