package dev.panopt.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.panopt.tokenizer.OptTokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The fixture set's {@code tokenizer/} folder: loads {@code vocab.json} + {@code merges.txt} with
 * {@link OptTokenizer#fromFiles} and checks every line of {@code cases.jsonl} (ids exactly; tokens,
 * decoded, decoded_skip_special, decoded_hf_default and the stream decoder as strings) and of
 * {@code decode_cases.jsonl} (decoded, and the stream decoder where clean-up is off); either case file
 * may be absent, and is then listed as skipped with the reason. One
 * {@link Compare.TensorResult} per line and kind: {@code ids} compared with {@link Compare#compare}
 * (ids as doubles, exact), {@code strings} passing or failing with the first differing field.
 * Stateless; thread-safe.
 */
final class TokenizerCases {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TokenizerCases() {}

    /** Files of the folder that may be absent: each is then listed as skipped with the reason. */
    static final List<String> OPTIONAL = List.of("cases.jsonl", "decode_cases.jsonl");

    static CaseResult run(Path tokenizerDir) {
        List<Compare.TensorResult> results = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        try {
            for (String optional : OPTIONAL) {
                if (!Files.exists(tokenizerDir.resolve(optional))) {
                    skipped.add(optional + " (optional file absent: its cases are not checked)");
                }
            }
            for (String required : new String[] {"vocab.json", "merges.txt"}) {
                if (!Files.isRegularFile(tokenizerDir.resolve(required))) {
                    return CaseResult.of("tokenizer", results, skipped, "no " + required + " in " + tokenizerDir);
                }
            }
            OptTokenizer tok = OptTokenizer.fromFiles(tokenizerDir.resolve("vocab.json"),
                    tokenizerDir.resolve("merges.txt"));
            forEachLine(tokenizerDir, "cases.jsonl", (line, c) -> encodeCase(tok, "cases:" + line, c, results));
            forEachLine(tokenizerDir, "decode_cases.jsonl", (line, c) -> decodeCase(tok, "decode:" + line, c, results));
        } catch (IOException | RuntimeException e) {
            return CaseResult.of("tokenizer", results, skipped, Compare.describe(e));
        }
        if (results.isEmpty()) {
            return CaseResult.skipped("tokenizer", skipped.isEmpty() ? "no cases in " + String.join(" or ", OPTIONAL)
                    : String.join("; ", skipped));
        }
        return CaseResult.of("tokenizer", results, skipped, null);
    }

    private interface LineCheck {
        void check(int line, JsonNode c) throws IOException;
    }

    /** Checks every line of an optional case file, if it is there. */
    private static void forEachLine(Path dir, String file, LineCheck check) throws IOException {
        Path f = dir.resolve(file);
        if (!Files.exists(f)) {
            return;
        }
        int line = 0;
        for (String l : Files.readAllLines(f, StandardCharsets.UTF_8)) {
            line++;
            if (!l.isBlank()) {
                check.check(line, JSON.readTree(l));
            }
        }
    }

    private static void encodeCase(OptTokenizer tok, String call, JsonNode c, List<Compare.TensorResult> out) {
        String text = field(c, "text").asText();
        int[] expected = ints(field(c, "ids"));
        int[] got = tok.encode(text);
        out.add(Compare.compare(call, "ids", new long[] {expected.length}, toDouble(got), toDouble(expected),
                Compare.Tolerance.EXACT));
        List<String[]> checks = new ArrayList<>();
        JsonNode tokens = field(c, "tokens");
        StringBuilder gotTokens = new StringBuilder();
        StringBuilder expTokens = new StringBuilder();
        String[] tk = tok.encodeWithOffsets(text, true).tokens();
        for (String t : tk) {
            gotTokens.append(quote(t)).append(' ');
        }
        for (JsonNode t : tokens) {
            expTokens.append(quote(t.asText())).append(' ');
        }
        checks.add(new String[] {"tokens", gotTokens.toString(), expTokens.toString()});
        checks.add(new String[] {"decoded", tok.decode(expected, false, false), field(c, "decoded").asText()});
        checks.add(new String[] {"decoded_skip_special", tok.decode(expected, true, false),
                field(c, "decoded_skip_special").asText()});
        checks.add(new String[] {"decoded_hf_default", tok.decode(expected, false, true),
                field(c, "decoded_hf_default").asText()});
        checks.add(new String[] {"stream(skip=false)", stream(tok, expected, false), field(c, "decoded").asText()});
        checks.add(new String[] {"stream(skip=true)", stream(tok, expected, true),
                field(c, "decoded_skip_special").asText()});
        out.add(strings(call, quote(text), checks));
    }

    private static void decodeCase(OptTokenizer tok, String call, JsonNode c, List<Compare.TensorResult> out) {
        int[] ids = ints(field(c, "ids"));
        boolean skip = field(c, "skip_special_tokens").asBoolean();
        boolean clean = field(c, "clean_up_tokenization_spaces").asBoolean();
        String expected = field(c, "decoded").asText();
        List<String[]> checks = new ArrayList<>();
        checks.add(new String[] {"decoded", tok.decode(ids, skip, clean), expected});
        if (!clean) {
            checks.add(new String[] {"stream", stream(tok, ids, skip), expected});
        }
        out.add(strings(call, c.path("description").asText("") + " skip=" + skip + " clean=" + clean, checks));
    }

    private static String stream(OptTokenizer tok, int[] ids, boolean skip) {
        OptTokenizer.StreamDecoder d = tok.newStreamDecoder(skip);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            sb.append(d.push(id));
        }
        return sb.append(d.finish()).toString();
    }

    /** A pass/fail result over string checks {name, got, expected}; the first mismatch is reported. */
    private static Compare.TensorResult strings(String call, String what, List<String[]> checks) {
        long failures = 0;
        String first = null;
        for (String[] ch : checks) {
            if (!ch[1].equals(ch[2])) {
                if (failures++ == 0) {
                    first = ch[0] + " of " + what + ": got " + quote(ch[1]) + ", expected " + quote(ch[2]);
                }
            }
        }
        return new Compare.TensorResult(call, "strings", new long[] {checks.size()}, failures == 0 ? 0 : 1,
                failures == 0 ? 0 : 1, Compare.Tolerance.EXACT, failures, first);
    }

    private static JsonNode field(JsonNode c, String name) {
        JsonNode n = c.get(name);
        if (n == null || n.isNull()) {
            throw new IllegalArgumentException("tokenizer case without \"" + name + "\": " + c);
        }
        return n;
    }

    private static int[] ints(JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = arr.get(i).asInt();
        }
        return out;
    }

    private static double[] toDouble(int[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    private static String quote(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (IOException e) {
            return s;
        }
    }
}
