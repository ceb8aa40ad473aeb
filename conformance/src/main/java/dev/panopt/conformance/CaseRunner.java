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
import dev.panopt.Session;
import dev.panopt.SessionOptions;
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
 */
final class CaseRunner {
    private static final Pattern PAST_OF_CALL = Pattern.compile("past_key_values of call '([^']+)'");

    private final LoadOptions load;
    private final Path writeOutputs;

    /** @param backend where every case's model computes (the caller closes it) */
    CaseRunner(Backend backend) {
        this(backend, null);
    }

    /**
     * @param backend      where every case's model computes (the caller closes it)
     * @param writeOutputs where to write what each case computed in the outputs protocol's layout, or null
     */
    CaseRunner(Backend backend, Path writeOutputs) {
        this.load = LoadOptions.builder().backend(backend).build();
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

    private static final class Collector {
        final Fixture f;
        final List<Compare.TensorResult> results = new ArrayList<>();
        final List<String> skipped = new ArrayList<>();
        final OutputTensors produced = new OutputTensors();

        Collector(Fixture f) {
            this.f = f;
        }

        void floats(String call, String expectedName, float[] got) {
            double[] g = Compare.toDouble(got);
            produced.floats(expectedName, f.shape(expectedName), g);
            results.add(Compare.compare(call, expectedName, f.shape(expectedName), g,
                    Compare.toDouble(f.floats(expectedName)), Compare.toleranceFor(expectedName, false)));
        }

        void tensor(String call, String expectedName, FloatTensor got) {
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
            produced.floats(expectedName, f.shape(expectedName), new double[] {got});
            results.add(Compare.compare(call, expectedName, f.shape(expectedName), new double[] {got},
                    Compare.toDouble(f.floats(expectedName)), Compare.toleranceFor(expectedName, false)));
        }

        void ints(String call, String expectedName, long[] got) {
            produced.longs(expectedName, f.shape(expectedName), Compare.toDouble(got));
            results.add(Compare.compare(call, expectedName, f.shape(expectedName), Compare.toDouble(got),
                    Compare.toDouble(f.longs(expectedName)), Compare.Tolerance.EXACT));
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
            for (JsonNode call : f.caseJson.get("calls")) {
                String id = call.path("id").asText();
                JsonNode outputs = call.path("outputs");
                if (call.has("procedure")) {
                    greedy(model, f, col, id, outputs);
                    continue;
                }
                JsonNode in = call.path("inputs");
                if (in.has("inputs_embeds")) {
                    baseModelEmbeds(f, col, id, in, outputs);
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
                        causalOutput(f, col, id, e.getKey(), e.getValue(), out, session);
                    }
                }
                sessions.put(id, session);
            }
        } catch (RuntimeException e) {
            error = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        return finish(col, error);
    }

    /** The case's result; with {@code writeOutputs}, what it computed is written there first. */
    private CaseResult finish(Collector col, String error) {
        if (writeOutputs != null) {
            try {
                col.produced.write(writeOutputs, col.f.name);
            } catch (java.io.IOException e) {
                error = (error == null ? "" : error + "; ") + "cannot write outputs: " + Compare.describe(e);
            }
        }
        return CaseResult.of(col.f.name, col.results, col.skipped, error);
    }

    private static void causalOutput(Fixture f, Collector col, String call, String key, JsonNode target,
                                     CausalLMOutput out, Session session) {
        switch (key) {
            case "logits" -> col.tensor(call, target.asText(), out.logits());
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
                col.floats(call, key, got);
            }
            case "row0_logits" -> {
                // "logits[0:1]"
                FloatTensor logits = out.logits();
                int n = (int) (logits.size(1) * logits.size(2));
                float[] got = new float[n];
                logits.copyTo(0, got);
                col.floats(call, key, got);
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
    private CaseResult runCalls(Fixture f, TaskCall body) {
        Collector col = new Collector(f);
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
        return finish(col, error);
    }

    private CaseResult runSequenceClassification(Fixture f) throws Exception {
        LoadOptions lo = load;
        try (OptForSequenceClassification model = OptForSequenceClassification.fromPretrained(f.model, lo);
             Session s = model.newSession()) {
            return runCalls(f, (id, in, outputs, col, ids, mask) -> {
                ClassificationLabels labels = in.has("labels") ? classificationLabels(f, in.get("labels").asText()) : null;
                try (SequenceClassifierOutput out = model.forward(ForwardRequest.inputIds(ids).attentionMask(mask).labels(labels).session(s).build())) {
                    if (f.has("pooled_index")) {
                        col.ints(id, "pooled_index", java.util.Arrays.stream(out.pooledIndex()).asLongStream().toArray());
                    }
                    outputs.forEach((key, target) -> {
                        switch (key) {
                            case "logits" -> col.tensor(id, "logits", out.logits());
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
            return runCalls(f, (id, in, outputs, col, ids, mask) -> {
                int[] start = in.has("start_positions") ? ints1(f, in.get("start_positions").asText()) : null;
                int[] end = in.has("end_positions") ? ints1(f, in.get("end_positions").asText()) : null;
                try (QuestionAnsweringOutput out = model.forward(ForwardRequest.inputIds(ids).attentionMask(mask).startPositions(start).endPositions(end).session(s).build())) {
                    outputs.forEach((key, target) -> {
                        switch (key) {
                            case "start_logits" -> col.tensor(id, target.asText(), out.startLogits());
                            case "end_logits" -> col.tensor(id, target.asText(), out.endLogits());
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
    private void greedy(OptForCausalLM model, Fixture f, Collector col, String call, JsonNode outputs) {
        if (!f.has("greedy_prompt_ids") || !f.has("greedy_ids")) {
            col.skip(call, outputs, "greedy inputs missing");
            return;
        }
        int[][] prompt = f.ints2("greedy_prompt_ids");
        int n = (int) f.shape("greedy_ids")[1];
        int vocab = model.config().vocabSize();
        long[] produced = new long[n];
        float[] stepLogits = new float[n * vocab];
        ForwardOptions cached = ForwardOptions.builder().useCache(true).build();
        try (Session s = model.newSession(SessionOptions.builder().maxBatch(1).build())) {
            int[][] input = prompt;
            int total = prompt[0].length;
            for (int i = 0; i < n; i++) {
                int[][] mask = new int[1][total];
                java.util.Arrays.fill(mask[0], 1);
                try (CausalLMOutput out = model.forward(ForwardRequest.inputIds(input).attentionMask(mask).session(s).options(cached).build())) {
                    float[] last = out.logits().row(0, out.logits().size(1) - 1);
                    System.arraycopy(last, 0, stepLogits, i * vocab, vocab);
                    int best = 0;
                    for (int v = 1; v < vocab; v++) {
                        if (last[v] > last[best]) {
                            best = v;
                        }
                    }
                    produced[i] = best;
                    input = new int[][] {{best}};
                    total++;
                }
            }
        }
        col.ints(call, "greedy_ids", produced);
        // The same through the public generate() (greedy, no EOS stop, as the reference ran).
        dev.panopt.GenerationResult gen = model.generate(prompt, null,
                dev.panopt.GenerationConfig.builder().maxNewTokens(n).eosTokenIds().build());
        col.ints("generate", "greedy_ids", java.util.Arrays.stream(gen.tokens(0)).asLongStream().toArray());
        if (f.has("greedy_step_logits")) {
            col.floats(call, "greedy_step_logits", stepLogits);
        }
    }
}
