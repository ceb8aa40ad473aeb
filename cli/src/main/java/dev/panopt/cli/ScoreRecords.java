package dev.panopt.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.panopt.ContinuationScore;
import dev.panopt.SequenceScore;

/**
 * The JSON lines of {@code panopt score}: a request per input line ({@code {"text": ...}} or
 * {@code {"context": ..., "continuation": ...}}, other fields kept) and the record written for it,
 * the input's fields followed by the result's.
 */
final class ScoreRecords {
    private ScoreRecords() {}

    static final ObjectMapper JSON = new ObjectMapper();

    /** One line to score: a text, or a context with its continuation; {@code fields} are echoed. */
    record Request(ObjectNode fields, String text, String context, String continuation) {
        boolean isPair() {
            return text == null;
        }
    }

    /** Parses one input line; {@code where} ("FILE:LINE") prefixes every error. */
    static Request parse(String line, String where) {
        JsonNode n;
        try {
            n = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(where + ": not JSON: " + e.getOriginalMessage());
        }
        if (!(n instanceof ObjectNode o)) {
            throw new IllegalArgumentException(where + ": a line must be a JSON object, e.g. {\"text\": \"...\"}");
        }
        boolean hasText = o.has("text");
        boolean hasPair = o.has("context") || o.has("continuation");
        if (hasText == hasPair) {
            throw new IllegalArgumentException(where + ": give either \"text\" or \"context\" with \"continuation\"");
        }
        if (hasText) {
            return new Request(o, string(o, "text", where), null, null);
        }
        return new Request(o, null, string(o, "context", where), string(o, "continuation", where));
    }

    private static String string(ObjectNode o, String key, String where) {
        JsonNode v = o.get(key);
        if (v == null || !v.isTextual()) {
            throw new IllegalArgumentException(where + ": \"" + key + "\" must be a string");
        }
        return v.textValue();
    }

    /** The output line of a scored text. */
    static String write(ObjectNode fields, SequenceScore s) {
        ObjectNode o = fields.deepCopy();
        ints(o.putArray("token_ids"), s.tokenIds());
        floats(o.putArray("token_logprobs"), s.tokenLogprobs());
        o.put("sum", s.sum());
        o.put("mean", s.mean());
        o.put("perplexity", s.perplexity());
        return o.toString();
    }

    /** The output line of a scored continuation. */
    static String write(ObjectNode fields, ContinuationScore s) {
        ObjectNode o = fields.deepCopy();
        ints(o.putArray("context_ids"), s.contextIds());
        ints(o.putArray("continuation_ids"), s.continuationIds());
        floats(o.putArray("token_logprobs"), s.tokenLogprobs());
        o.put("loglikelihood", s.logLikelihood());
        o.put("is_greedy", s.isGreedy());
        return o.toString();
    }

    private static void ints(ArrayNode a, int[] v) {
        for (int x : v) {
            a.add(x);
        }
    }

    private static void floats(ArrayNode a, float[] v) {
        for (float x : v) {
            a.add(x);
        }
    }
}
