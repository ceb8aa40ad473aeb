package dev.panopt.tokenizer;

import dev.panopt.checkpoint.CheckpointException;
import dev.panopt.internal.Json;
import dev.panopt.internal.PretrainedFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Reads the files of a tokenizer directory ({@code vocab.json} + {@code merges.txt} or
 * {@code tokenizer.json}, with {@code tokenizer_config.json}, {@code special_tokens_map.json} and
 * {@code added_tokens.json}) into their {@link Contents}, without building any table. Every problem
 * with a file is a {@link CheckpointException} naming that file.
 */
final class TokenizerFiles {
    private static final String DEFAULT_BOS = "</s>";
    private static final String DEFAULT_EOS = "</s>";
    private static final String DEFAULT_UNK = "</s>";
    private static final String DEFAULT_PAD = "<pad>";
    private static final List<String> ROLES = List.of("bos_token", "eos_token", "unk_token", "sep_token",
            "pad_token", "cls_token", "mask_token");
    /** Largest id a vocabulary may give a token. */
    private static final long MAX_VOCAB_ID = 10_000_000;

    /**
     * What the files say.
     *
     * @param vocab             token string → id of the base vocabulary
     * @param merges            merge pairs in rank order
     * @param roles             role name ({@code bos_token}, ...) → its token, in role order
     * @param additionalSpecial {@code additional_special_tokens}
     * @param addedTokens       added tokens in the order the files list them
     * @param addBos            whether encoding prepends the BOS
     */
    record Contents(TokenTable vocab, Merges merges, Map<String, TokenSpec> roles,
                    List<TokenSpec> additionalSpecial, List<TokenSpec> addedTokens, boolean addBos) {}

    /**
     * Merge pairs in rank order as positions in one text, so that loading needs no string per half:
     * merge {@code i} is {@code text[first[i], firstEnd[i])} and {@code text[firstEnd[i] + 1, end[i])}.
     */
    record Merges(String text, int[] first, int[] firstEnd, int[] end) {
        int size() {
            return first.length;
        }

        static Merges of(List<String[]> pairs) {
            StringBuilder b = new StringBuilder();
            int n = pairs.size();
            int[] first = new int[n];
            int[] firstEnd = new int[n];
            int[] end = new int[n];
            for (int i = 0; i < n; i++) {
                String[] p = pairs.get(i);
                first[i] = b.length();
                b.append(p[0]);
                firstEnd[i] = b.length();
                b.append(' ').append(p[1]);
                end[i] = b.length();
                b.append('\n');
            }
            return new Merges(b.toString(), first, firstEnd, end);
        }
    }

    /** An added token and the file that named it. */
    private record FileToken(TokenSpec spec, Path file) {}

    private TokenizerFiles() {}

    /** Reads a tokenizer directory; see {@link OptTokenizer#fromPretrained(Path)}. */
    static Contents readDirectory(Path directory) throws IOException {
        Objects.requireNonNull(directory, "directory");
        Path vocabFile = directory.resolve(PretrainedFiles.VOCAB);
        Path mergesFile = directory.resolve(PretrainedFiles.MERGES);
        Path tokenizerJson = directory.resolve(PretrainedFiles.TOKENIZER_JSON);
        TokenTable vocab;
        Merges merges;
        List<FileToken> addedTokens = new ArrayList<>();
        if (Files.isRegularFile(vocabFile) && Files.isRegularFile(mergesFile)) {
            vocab = readVocab(vocabFile);
            merges = readMerges(mergesFile);
        } else if (Files.isRegularFile(tokenizerJson)) {
            List<String[]> pairs = new ArrayList<>();
            vocab = readTokenizerJson(tokenizerJson, pairs, addedTokens);
            merges = Merges.of(pairs);
        } else {
            throw new CheckpointException(directory, "no tokenizer files: looked for " + lookedFor(vocabFile)
                    + " with " + lookedFor(mergesFile) + ", or " + lookedFor(tokenizerJson)
                    + " (a facebook/opt-* directory has vocab.json and merges.txt; the Panopt repository bundles"
                    + " OPT's in conformance/fixtures/tokenizer)");
        }
        Map<String, TokenSpec> roles = defaultRoles();
        List<TokenSpec> additional = new ArrayList<>();
        boolean addBos = true;
        Path configFile = directory.resolve(PretrainedFiles.TOKENIZER_CONFIG);
        Path mapFile = directory.resolve(PretrainedFiles.SPECIAL_TOKENS_MAP);
        for (Path f : new Path[] {configFile, mapFile}) {
            if (!Files.isRegularFile(f)) {
                continue;
            }
            Map<String, Object> cfg = readJsonObject(f);
            try {
                for (String role : ROLES) {
                    if (cfg.containsKey(role)) {
                        TokenSpec s = tokenSpec(cfg.get(role), role);
                        if (s == null) {
                            roles.remove(role);
                        } else {
                            roles.put(role, s);
                        }
                    }
                }
                if (cfg.get("additional_special_tokens") instanceof List<?> list) {
                    additional.clear();
                    for (Object o : list) {
                        TokenSpec s = tokenSpec(o, "additional_special_tokens");
                        if (s != null) {
                            additional.add(s);
                        }
                    }
                }
                if (cfg.containsKey("add_bos_token")) {
                    if (!(cfg.get("add_bos_token") instanceof Boolean b)) {
                        throw new IllegalArgumentException("add_bos_token must be a boolean");
                    }
                    addBos = b;
                }
                if (Boolean.TRUE.equals(cfg.get("add_prefix_space"))) {
                    throw new IllegalArgumentException("add_prefix_space=true is not supported (OPT uses false)");
                }
                if (cfg.get("added_tokens_decoder") instanceof Map<?, ?> dec) {
                    for (Map.Entry<?, ?> e : dec.entrySet()) {
                        int id = Integer.parseInt((String) e.getKey());
                        addedTokens.add(new FileToken(addedSpec(e.getValue(), id), f));
                    }
                }
            } catch (RuntimeException e) {
                throw new CheckpointException(f, "malformed: " + e.getMessage(), e);
            }
        }
        Path addedFile = directory.resolve(PretrainedFiles.ADDED_TOKENS);
        if (Files.isRegularFile(addedFile)) {
            Map<String, Object> a = readJsonObject(addedFile);
            try {
                for (Map.Entry<String, Object> e : a.entrySet()) {
                    addedTokens.add(new FileToken(new TokenSpec(e.getKey(), false, false, false,
                            Math.toIntExact(Json.asLong(e.getValue(), "id of " + e.getKey()))), addedFile));
                }
            } catch (RuntimeException e) {
                throw new CheckpointException(addedFile, "malformed: " + e.getMessage(), e);
            }
        }
        checkAddedIds(vocab, addedTokens);
        return new Contents(vocab, merges, roles, additional, addedTokens.stream().map(FileToken::spec).toList(),
                addBos);
    }

    private static String lookedFor(Path f) {
        return f.getFileName() + (Files.isRegularFile(f) ? " (found)" : Files.exists(f) ? " (not a regular file)"
                : " (absent)");
    }

    /** Reads {@code vocab.json} and {@code merges.txt}, with OPT's special tokens and settings. */
    static Contents readVocabAndMerges(Path vocabJson, Path mergesTxt) throws IOException {
        TokenTable vocab = readVocab(vocabJson);
        Merges merges = readMerges(mergesTxt);
        return new Contents(vocab, merges, defaultRoles(), List.of(), List.of(), true);
    }

    private static Map<String, TokenSpec> defaultRoles() {
        Map<String, TokenSpec> roles = new LinkedHashMap<>();
        roles.put("bos_token", TokenSpec.special(DEFAULT_BOS));
        roles.put("eos_token", TokenSpec.special(DEFAULT_EOS));
        roles.put("unk_token", TokenSpec.special(DEFAULT_UNK));
        roles.put("pad_token", TokenSpec.special(DEFAULT_PAD));
        return roles;
    }

    /**
     * Bounds the ids that the files give added tokens, which index the tokenizer's id table: each entry
     * adds at most one id after the vocabulary's, so every id is below the end of the vocabulary's ids plus
     * the number of added-token entries of all files. A larger (or negative) id would only ask for a huge
     * table of nothing.
     *
     * @throws CheckpointException naming the file of the first id out of range, and the id
     */
    private static void checkAddedIds(TokenTable vocab, List<FileToken> added) throws CheckpointException {
        long vocabEnd = vocab.maxValue() + 1L;
        long limit = vocabEnd + added.size();
        for (FileToken t : added) {
            int id = t.spec().id();
            if (id < 0 || id >= limit) {
                throw new CheckpointException(t.file(), "added token " + Json.write(t.spec().content()) + " has id "
                        + id + ", out of range 0.." + (limit - 1) + " (the vocabulary's ids end at " + vocabEnd
                        + " and the files list " + added.size() + " added tokens)");
            }
        }
    }

    private static TokenSpec tokenSpec(Object v, String what) {
        if (v == null) {
            return null;
        }
        if (v instanceof String s) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException(what + " is empty");
            }
            return TokenSpec.special(s);
        }
        Map<String, Object> m = Json.asObject(v, what);
        String content = Json.asString(m.get("content"), what + ".content");
        if (content.isEmpty()) {
            throw new IllegalArgumentException(what + ".content is empty");
        }
        return new TokenSpec(content, bool(m, "lstrip", what), bool(m, "rstrip", what), true, -1);
    }

    private static TokenSpec addedSpec(Object v, int id) {
        if (id < 0) {
            throw new IllegalArgumentException("negative added token id " + id);
        }
        Map<String, Object> m = Json.asObject(v, "added token " + id);
        String content = Json.asString(m.get("content"), "added token " + id + " content");
        if (content.isEmpty()) {
            throw new IllegalArgumentException("added token " + id + " has empty content");
        }
        return new TokenSpec(content, bool(m, "lstrip", "added token"), bool(m, "rstrip", "added token"),
                bool(m, "special", "added token"), id);
    }

    private static boolean bool(Map<String, Object> m, String key, String what) {
        Object o = m.get(key);
        if (o == null) {
            return false;
        }
        if (o instanceof Boolean b) {
            return b;
        }
        throw new IllegalArgumentException(what + "." + key + " must be a boolean, got " + Json.typeName(o));
    }

    private static Map<String, Object> readJsonObject(Path f) throws IOException {
        String text = readText(f);
        try {
            return Json.asObject(Json.parse(text), "the file");
        } catch (RuntimeException e) {
            throw new CheckpointException(f, "malformed JSON: " + e.getMessage(), e);
        }
    }

    private static String readText(Path f) throws IOException {
        if (!Files.isRegularFile(f)) {
            throw new CheckpointException(f, "missing or not a regular file");
        }
        byte[] bytes = Files.readAllBytes(f);
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointException(f, "not valid UTF-8", e);
        }
    }

    private static TokenTable readVocab(Path f) throws IOException {
        String text = readText(f);
        TokenTable fast = VocabScanner.scan(text);
        if (fast != null) {
            return fast;
        }
        // Anything the scanner does not take (malformed, or merely unusual) gets the strict reader's verdict.
        Map<String, Object> m;
        try {
            m = Json.asObject(Json.parse(text), "the file");
        } catch (RuntimeException e) {
            throw new CheckpointException(f, "malformed JSON: " + e.getMessage(), e);
        }
        try {
            return vocabFrom(m, "vocab.json");
        } catch (RuntimeException e) {
            throw new CheckpointException(f, "malformed vocabulary: " + e.getMessage(), e);
        }
    }

    private static TokenTable vocabFrom(Map<String, Object> m, String what) {
        if (m.isEmpty()) {
            throw new IllegalArgumentException(what + " is empty");
        }
        TokenTable vocab = new TokenTable(m.size());
        for (Map.Entry<String, Object> e : m.entrySet()) {
            long id = Json.asLong(e.getValue(), "id of token " + Json.write(e.getKey()));
            if (id < 0 || id > MAX_VOCAB_ID) {
                throw new IllegalArgumentException("id of token " + Json.write(e.getKey()) + " out of range: " + id);
            }
            if (e.getKey().isEmpty()) {
                throw new IllegalArgumentException("empty token string (id " + id + ")");
            }
            vocab.put(e.getKey(), (int) id);
        }
        return vocab;
    }

    /**
     * Reads merges.txt: an optional {@code #version} first line, then one merge per line, two tokens
     * separated by one space; blank lines are skipped, a trailing {@code \r} is ignored.
     */
    private static Merges readMerges(Path f) throws IOException {
        String text = readText(f);
        int cap = 1024;
        int[] first = new int[cap];
        int[] firstEnd = new int[cap];
        int[] end = new int[cap];
        int n = 0;
        int lineNo = 0;
        int pos = 0;
        int len = text.length();
        while (pos < len) {
            int nl = text.indexOf('\n', pos);
            int lineEnd = nl < 0 ? len : nl;
            int start = pos;
            pos = lineEnd + 1;
            lineNo++;
            if (lineEnd > start && text.charAt(lineEnd - 1) == '\r') {
                lineEnd--;
            }
            if (lineEnd == start || (lineNo == 1 && text.startsWith("#version", start))) {
                continue;
            }
            int sp = text.indexOf(' ', start);
            boolean onlyOneSpace = sp > start && sp < lineEnd - 1 && indexOf(text, ' ', sp + 1, lineEnd) < 0;
            if (!onlyOneSpace) {
                throw new CheckpointException(f, "line " + lineNo + ": expected two tokens separated by one space, got "
                        + Json.write(text.substring(start, lineEnd)));
            }
            if (n == first.length) {
                first = java.util.Arrays.copyOf(first, n * 2);
                firstEnd = java.util.Arrays.copyOf(firstEnd, n * 2);
                end = java.util.Arrays.copyOf(end, n * 2);
            }
            first[n] = start;
            firstEnd[n] = sp;
            end[n] = lineEnd;
            n++;
        }
        return new Merges(text, java.util.Arrays.copyOf(first, n), java.util.Arrays.copyOf(firstEnd, n),
                java.util.Arrays.copyOf(end, n));
    }

    private static int indexOf(String s, char c, int from, int to) {
        int i = s.indexOf(c, from);
        return i >= 0 && i < to ? i : -1;
    }

    private static TokenTable readTokenizerJson(Path f, List<String[]> merges, List<FileToken> addedTokens)
            throws IOException {
        Map<String, Object> root = readJsonObject(f);
        TokenTable vocab;
        try {
            Map<String, Object> model = Json.asObject(root.get("model"), "model");
            Object type = model.get("type");
            if (type != null && !"BPE".equals(type)) {
                throw new IllegalArgumentException("model.type must be BPE, got " + Json.write(type));
            }
            vocab = vocabFrom(Json.asObject(model.get("vocab"), "model.vocab"), "model.vocab");
            int i = 0;
            for (Object o : Json.asArray(model.get("merges"), "model.merges")) {
                String[] pair;
                if (o instanceof String s) {
                    pair = s.split(" ", -1);
                } else {
                    List<Object> l = Json.asArray(o, "model.merges[" + i + "]");
                    pair = new String[l.size()];
                    for (int k = 0; k < pair.length; k++) {
                        pair[k] = Json.asString(l.get(k), "model.merges[" + i + "][" + k + "]");
                    }
                }
                if (pair.length != 2 || pair[0].isEmpty() || pair[1].isEmpty()) {
                    throw new IllegalArgumentException("model.merges[" + i + "] is not a pair: " + Json.write(o));
                }
                merges.add(pair);
                i++;
            }
            Object at = root.get("added_tokens");
            if (at != null) {
                for (Object o : Json.asArray(at, "added_tokens")) {
                    Map<String, Object> m = Json.asObject(o, "added_tokens[]");
                    int id = Math.toIntExact(Json.asLong(m.get("id"), "added_tokens[].id"));
                    addedTokens.add(new FileToken(addedSpec(m, id), f));
                }
            }
        } catch (RuntimeException e) {
            throw new CheckpointException(f, "malformed: " + e.getMessage(), e);
        }
        return vocab;
    }
}
