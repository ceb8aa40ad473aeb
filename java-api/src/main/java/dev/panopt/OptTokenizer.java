package dev.panopt;

import dev.panopt.internal.ByteLevelBpe;
import dev.panopt.internal.ByteLevelBpe.IntBuf;
import dev.panopt.internal.Json;
import dev.panopt.internal.Utf8;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * OPT's tokenizer: GPT-2 byte-level BPE with the RoBERTa/fairseq id order, reproducing transformers'
 * slow {@code GPT2Tokenizer} as OPT configures it: {@code add_bos_token=true} ({@code </s>} = 2 is
 * prepended, nothing appended), {@code add_prefix_space=false}, {@code errors="replace"},
 * bos = eos = unk = {@code </s>}, pad = {@code <pad>}.
 *
 * <p>Encoding: the special tokens of the configuration ({@code </s>} and {@code <pad>} for OPT, plus
 * any added tokens of the files) written in the text are split out first and map to their ids
 * without stripping neighbouring spaces (unless an added token says {@code lstrip}/{@code rstrip});
 * {@code <s>}, {@code <unk>}, {@code <mask>} and {@code <|endoftext|>} are ordinary text for OPT. The
 * rest is cut by GPT-2's pre-tokenizer regex (Unicode {@code \s}, {@code \p{L}}, {@code \p{N}}, see
 * {@link dev.panopt.internal.ByteLevelBpe}), each piece's UTF-8 bytes mapped to GPT-2's byte alphabet
 * and merged by rank. An unpaired surrogate in the text is encoded as U+FFFD.
 *
 * <p>Decoding follows the slow tokenizer's {@code decode}: the tokens' bytes are joined and decoded as
 * UTF-8 with Python's {@code errors="replace"} (one U+FFFD per maximal invalid subsequence);
 * {@code skipSpecialTokens} drops {@link #specialTokenIds()} (1 and 2 for OPT); clean-up applies
 * transformers' {@code clean_up_tokenization} (" ." " ?" " !" " ," " ' " " n't" " 'm" " 's" " 've"
 * " 're", in that order).
 *
 * <p>Thread-safety: immutable after construction and safe to share between threads; the only mutable
 * state is an internal bounded word cache whose races are benign. {@link StreamDecoder}s are not
 * thread-safe (one per sequence).
 */
public final class OptTokenizer {
    private static final String DEFAULT_BOS = "</s>";
    private static final String DEFAULT_EOS = "</s>";
    private static final String DEFAULT_UNK = "</s>";
    private static final String DEFAULT_PAD = "<pad>";
    private static final List<String> ROLES = List.of("bos_token", "eos_token", "unk_token", "sep_token",
            "pad_token", "cls_token", "mask_token");

    /** A token split out of the text before BPE. */
    private record Added(String content, int id, boolean lstrip, boolean rstrip) {}

    /** A token named by a configuration file (content and strip flags). */
    private record TokenSpec(String content, boolean lstrip, boolean rstrip, boolean special, int id) {}

    private final ByteLevelBpe bpe;
    private final String[] idToToken;
    private final byte[][] idBytes;
    private final Map<String, Integer> tokenToId;
    private final int vocabSize;
    private final Added[] added;
    private final boolean[] addedFirstChar;
    private final boolean[] special;
    private final boolean[] legacyAdded;
    private final Set<Integer> specialIds;
    private final int bosId;
    private final int eosId;
    private final int padId;
    private final int unkId;
    private final boolean addBos;

    private OptTokenizer(Map<String, Integer> vocab, List<String[]> merges, Map<String, TokenSpec> roles,
                         List<TokenSpec> additionalSpecial, List<TokenSpec> addedTokens, boolean addBos) {
        this.vocabSize = vocab.size();
        this.addBos = addBos;
        Map<String, Integer> t2i = new HashMap<>(vocab);
        int next = 0;
        for (int id : vocab.values()) {
            next = Math.max(next, id + 1);
        }
        for (TokenSpec a : addedTokens) {
            if (a.id >= 0) {
                t2i.put(a.content, a.id);
                next = Math.max(next, a.id + 1);
            }
        }
        List<TokenSpec> all = new ArrayList<>();
        all.addAll(roles.values());
        all.addAll(additionalSpecial);
        all.addAll(addedTokens);
        for (TokenSpec s : all) {
            if (!t2i.containsKey(s.content)) {
                t2i.put(s.content, next++);
            }
        }
        this.tokenToId = Map.copyOf(t2i);
        idToToken = new String[next];
        for (Map.Entry<String, Integer> e : t2i.entrySet()) {
            idToToken[e.getValue()] = e.getKey();
        }
        idBytes = new byte[next][];
        for (int i = 0; i < next; i++) {
            if (idToToken[i] != null) {
                idBytes[i] = ByteLevelBpe.tokenBytes(idToToken[i]);
            }
        }
        bosId = roleId(roles, "bos_token", t2i);
        eosId = roleId(roles, "eos_token", t2i);
        padId = roleId(roles, "pad_token", t2i);
        unkId = roleId(roles, "unk_token", t2i);
        special = new boolean[next];
        Set<Integer> specials = new LinkedHashSet<>();
        for (TokenSpec s : roles.values()) {
            specials.add(t2i.get(s.content));
        }
        for (TokenSpec s : additionalSpecial) {
            specials.add(t2i.get(s.content));
        }
        for (TokenSpec s : addedTokens) {
            if (s.special) {
                specials.add(t2i.get(s.content));
            }
        }
        for (int id : specials) {
            special[id] = true;
        }
        specialIds = Collections.unmodifiableSet(specials);
        legacyAdded = new boolean[next];
        for (TokenSpec s : addedTokens) {
            int id = t2i.get(s.content);
            if (!special[id]) {
                legacyAdded[id] = true;
            }
        }
        for (TokenSpec s : additionalSpecial) {
            int id = t2i.get(s.content);
            if (id >= vocabSize) {
                legacyAdded[id] = true;
            }
        }
        Map<String, Added> addedMap = new LinkedHashMap<>();
        for (TokenSpec s : all) {
            if (!s.content.isEmpty()) {
                addedMap.putIfAbsent(s.content, new Added(s.content, t2i.get(s.content), s.lstrip, s.rstrip));
            }
        }
        added = addedMap.values().stream()
                .sorted(Comparator.comparingInt((Added a) -> a.content.length()).reversed()).toArray(Added[]::new);
        addedFirstChar = new boolean[65536];
        for (Added a : added) {
            addedFirstChar[a.content.charAt(0)] = true;
        }
        bpe = new ByteLevelBpe(vocab, merges, unkId >= 0 ? unkId : 0);
    }

    private static int roleId(Map<String, TokenSpec> roles, String role, Map<String, Integer> t2i) {
        TokenSpec s = roles.get(role);
        return s == null ? -1 : t2i.get(s.content);
    }

    // ---------------------------------------------------------------- loading

    /**
     * Loads a tokenizer directory: {@code vocab.json} + {@code merges.txt}, or else {@code tokenizer.json}
     * (Hugging Face tokenizers format: {@code model.vocab}, {@code model.merges} as {@code "a b"} strings
     * or {@code [a, b]} pairs, {@code added_tokens}). Special tokens and {@code add_bos_token} come from
     * {@code special_tokens_map.json} (which wins) and {@code tokenizer_config.json} when present (plain
     * strings or {@code {"content": ...}} objects; {@code added_tokens_decoder} and
     * {@code added_tokens.json} add tokens); a role no file names gets OPT's default.
     *
     * @throws CheckpointException naming the file when a file is missing or malformed
     */
    public static OptTokenizer fromPretrained(Path directory) throws IOException {
        Objects.requireNonNull(directory, "directory");
        Path vocabFile = directory.resolve("vocab.json");
        Path mergesFile = directory.resolve("merges.txt");
        Path tokenizerJson = directory.resolve("tokenizer.json");
        Map<String, Integer> vocab;
        List<String[]> merges;
        List<TokenSpec> addedTokens = new ArrayList<>();
        if (Files.isRegularFile(vocabFile) && Files.isRegularFile(mergesFile)) {
            vocab = readVocab(vocabFile);
            merges = readMerges(mergesFile);
        } else if (Files.isRegularFile(tokenizerJson)) {
            vocab = new HashMap<>();
            merges = new ArrayList<>();
            readTokenizerJson(tokenizerJson, vocab, merges, addedTokens);
        } else {
            throw new CheckpointException(directory,
                    "no tokenizer files: expected vocab.json and merges.txt, or tokenizer.json");
        }
        Map<String, TokenSpec> roles = new LinkedHashMap<>();
        roles.put("bos_token", spec(DEFAULT_BOS));
        roles.put("eos_token", spec(DEFAULT_EOS));
        roles.put("unk_token", spec(DEFAULT_UNK));
        roles.put("pad_token", spec(DEFAULT_PAD));
        List<TokenSpec> additional = new ArrayList<>();
        boolean addBos = true;
        Path configFile = directory.resolve("tokenizer_config.json");
        Path mapFile = directory.resolve("special_tokens_map.json");
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
                        addedTokens.add(addedSpec(e.getValue(), id));
                    }
                }
            } catch (RuntimeException e) {
                throw new CheckpointException(f, "malformed: " + e.getMessage(), e);
            }
        }
        Path addedFile = directory.resolve("added_tokens.json");
        if (Files.isRegularFile(addedFile)) {
            Map<String, Object> a = readJsonObject(addedFile);
            try {
                for (Map.Entry<String, Object> e : a.entrySet()) {
                    addedTokens.add(new TokenSpec(e.getKey(), false, false, false,
                            Math.toIntExact(Json.asLong(e.getValue(), "id of " + e.getKey()))));
                }
            } catch (RuntimeException e) {
                throw new CheckpointException(addedFile, "malformed: " + e.getMessage(), e);
            }
        }
        return new OptTokenizer(vocab, merges, roles, additional, addedTokens, addBos);
    }

    /** Loads {@code vocab.json} and {@code merges.txt} with OPT's special tokens and settings. */
    public static OptTokenizer fromFiles(Path vocabJson, Path mergesTxt) throws IOException {
        Map<String, Integer> vocab = readVocab(vocabJson);
        List<String[]> merges = readMerges(mergesTxt);
        Map<String, TokenSpec> roles = new LinkedHashMap<>();
        roles.put("bos_token", spec(DEFAULT_BOS));
        roles.put("eos_token", spec(DEFAULT_EOS));
        roles.put("unk_token", spec(DEFAULT_UNK));
        roles.put("pad_token", spec(DEFAULT_PAD));
        return new OptTokenizer(vocab, merges, roles, List.of(), List.of(), true);
    }

    private static TokenSpec spec(String content) {
        return new TokenSpec(content, false, false, true, -1);
    }

    private static TokenSpec tokenSpec(Object v, String what) {
        if (v == null) {
            return null;
        }
        if (v instanceof String s) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException(what + " is empty");
            }
            return spec(s);
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
            return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new CheckpointException(f, "not valid UTF-8", e);
        }
    }

    private static Map<String, Integer> readVocab(Path f) throws IOException {
        Map<String, Object> m = readJsonObject(f);
        try {
            return vocabFrom(m, "vocab.json");
        } catch (RuntimeException e) {
            throw new CheckpointException(f, "malformed vocabulary: " + e.getMessage(), e);
        }
    }

    private static Map<String, Integer> vocabFrom(Map<String, Object> m, String what) {
        if (m.isEmpty()) {
            throw new IllegalArgumentException(what + " is empty");
        }
        Map<String, Integer> vocab = new HashMap<>(m.size() * 2);
        for (Map.Entry<String, Object> e : m.entrySet()) {
            long id = Json.asLong(e.getValue(), "id of token " + Json.write(e.getKey()));
            if (id < 0 || id > 10_000_000) {
                throw new IllegalArgumentException("id of token " + Json.write(e.getKey()) + " out of range: " + id);
            }
            if (e.getKey().isEmpty()) {
                throw new IllegalArgumentException("empty token string (id " + id + ")");
            }
            vocab.put(e.getKey(), (int) id);
        }
        return vocab;
    }

    private static List<String[]> readMerges(Path f) throws IOException {
        String text = readText(f);
        List<String[]> merges = new ArrayList<>(50_000);
        int lineNo = 0;
        int pos = 0;
        while (pos < text.length()) {
            int nl = text.indexOf('\n', pos);
            int end = nl < 0 ? text.length() : nl;
            String line = text.substring(pos, end);
            pos = end + 1;
            lineNo++;
            if (line.endsWith("\r")) {
                line = line.substring(0, line.length() - 1);
            }
            if (line.isEmpty() || (lineNo == 1 && line.startsWith("#version"))) {
                continue;
            }
            String[] parts = line.split(" ", -1);
            if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
                throw new CheckpointException(f, "line " + lineNo + ": expected two tokens separated by one space, got "
                        + Json.write(line));
            }
            merges.add(parts);
        }
        return merges;
    }

    private static void readTokenizerJson(Path f, Map<String, Integer> vocab, List<String[]> merges,
                                          List<TokenSpec> addedTokens) throws IOException {
        Map<String, Object> root = readJsonObject(f);
        try {
            Map<String, Object> model = Json.asObject(root.get("model"), "model");
            Object type = model.get("type");
            if (type != null && !"BPE".equals(type)) {
                throw new IllegalArgumentException("model.type must be BPE, got " + Json.write(type));
            }
            vocab.putAll(vocabFrom(Json.asObject(model.get("vocab"), "model.vocab"), "model.vocab"));
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
                    addedTokens.add(addedSpec(m, id));
                }
            }
        } catch (RuntimeException e) {
            throw new CheckpointException(f, "malformed: " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- encoding

    /** Encodes with special tokens (the BOS {@code </s>} first). */
    public int[] encode(String text) {
        return encode(text, true);
    }

    /** Encodes; with {@code addSpecialTokens} the BOS is prepended when {@link #addBosToken()}. */
    public int[] encode(String text, boolean addSpecialTokens) {
        requireText(text, "text");
        IntBuf ids = new IntBuf(text.length() / 3 + 8);
        if (addSpecialTokens && addBos && bosId >= 0) {
            ids.add(bosId);
        }
        encodeText(text, ids, null, null);
        return ids.toArray();
    }

    /** Encodes with tokens and character offsets (see {@link Encoding} for the offset rule). */
    public Encoding encodeWithOffsets(String text, boolean addSpecialTokens) {
        requireText(text, "text");
        IntBuf ids = new IntBuf(text.length() / 3 + 8);
        IntBuf starts = new IntBuf(text.length() / 3 + 8);
        IntBuf ends = new IntBuf(text.length() / 3 + 8);
        if (addSpecialTokens && addBos && bosId >= 0) {
            ids.add(bosId);
            starts.add(0);
            ends.add(0);
        }
        encodeText(text, ids, starts, ends);
        int[] idArr = ids.toArray();
        return new Encoding(idArr, tokensOf(idArr), starts.toArray(), ends.toArray());
    }

    /** {@code encodePair(first, second, true)}. */
    public PairEncoding encodePair(String first, String second) {
        return encodePair(first, second, true);
    }

    /**
     * Encodes a text pair as the slow GPT-2 tokenizer does: {@code [bos] + ids(first) + [bos] + ids(second)}
     * when special tokens are added and {@link #addBosToken()}, plain concatenation otherwise.
     */
    public PairEncoding encodePair(String first, String second, boolean addSpecialTokens) {
        requireText(first, "first");
        requireText(second, "second");
        boolean bos = addSpecialTokens && addBos && bosId >= 0;
        IntBuf ids = new IntBuf(64);
        IntBuf starts = new IntBuf(64);
        IntBuf ends = new IntBuf(64);
        IntBuf seq = new IntBuf(64);
        for (int s = 0; s < 2; s++) {
            if (bos) {
                ids.add(bosId);
                starts.add(0);
                ends.add(0);
                seq.add(-1);
            }
            int before = ids.size();
            encodeText(s == 0 ? first : second, ids, starts, ends);
            for (int k = before; k < ids.size(); k++) {
                seq.add(s);
            }
        }
        int[] idArr = ids.toArray();
        return new PairEncoding(idArr, tokensOf(idArr), starts.toArray(), ends.toArray(), seq.toArray());
    }

    /** Encodes, truncates and pads a batch (see {@link EncodeOptions}). */
    public BatchEncoding encodeBatch(List<String> texts, EncodeOptions options) {
        Objects.requireNonNull(texts, "texts");
        Objects.requireNonNull(options, "options");
        int n = texts.size();
        Encoding[] enc = new Encoding[n];
        int longest = 0;
        int maxLen = options.maxLength();
        for (int r = 0; r < n; r++) {
            String t = texts.get(r);
            if (t == null) {
                throw new NullPointerException("texts[" + r + "] is null");
            }
            Encoding e = encodeWithOffsets(t, options.addSpecialTokens());
            if (options.truncation() && maxLen > 0 && e.length() > maxLen) {
                e = new Encoding(Arrays.copyOf(e.ids(), maxLen), Arrays.copyOf(e.tokens(), maxLen),
                        Arrays.copyOf(e.startOffsets(), maxLen), Arrays.copyOf(e.endOffsets(), maxLen));
            }
            enc[r] = e;
            longest = Math.max(longest, e.length());
        }
        int target = switch (options.padding()) {
            case NONE -> -1;
            case LONGEST -> longest;
            case MAX_LENGTH -> maxLen;
        };
        int mult = options.padToMultipleOf();
        if (target >= 0 && mult > 0 && target % mult != 0) {
            target = (target / mult + 1) * mult;
        }
        if (target > 0 && padId < 0) {
            for (Encoding e : enc) {
                if (e.length() < target) {
                    throw new IllegalStateException("padding requested but the tokenizer has no pad token");
                }
            }
        }
        int[][] ids = new int[n][];
        int[][] mask = new int[n][];
        int[][] starts = new int[n][];
        int[][] ends = new int[n][];
        boolean left = options.paddingSide() == PaddingSide.LEFT;
        for (int r = 0; r < n; r++) {
            Encoding e = enc[r];
            int len = e.length();
            int total = Math.max(len, target);
            int off = left ? total - len : 0;
            ids[r] = new int[total];
            mask[r] = new int[total];
            starts[r] = new int[total];
            ends[r] = new int[total];
            if (total > len) {
                Arrays.fill(ids[r], padId);
            }
            System.arraycopy(e.ids(), 0, ids[r], off, len);
            Arrays.fill(mask[r], off, off + len, 1);
            System.arraycopy(e.startOffsets(), 0, starts[r], off, len);
            System.arraycopy(e.endOffsets(), 0, ends[r], off, len);
        }
        return new BatchEncoding(ids, mask, starts, ends);
    }

    private static void requireText(String text, String name) {
        if (text == null) {
            throw new NullPointerException(name + " must not be null");
        }
    }

    private String[] tokensOf(int[] ids) {
        String[] t = new String[ids.length];
        for (int i = 0; i < ids.length; i++) {
            t[i] = idToToken[ids[i]];
        }
        return t;
    }

    private void encodeText(String text, IntBuf ids, IntBuf starts, IntBuf ends) {
        int n = text.length();
        if (added.length == 0) {
            bpe.encode(text, 0, n, ids, starts, ends);
            return;
        }
        int segStart = 0;
        int i = 0;
        while (i < n) {
            Added a = addedFirstChar[text.charAt(i)] ? matchAdded(text, i) : null;
            if (a == null) {
                i++;
                continue;
            }
            int segEnd = i;
            if (a.lstrip) {
                while (segEnd > segStart && isPySpace(text.charAt(segEnd - 1))) {
                    segEnd--;
                }
            }
            if (segEnd > segStart) {
                bpe.encode(text, segStart, segEnd, ids, starts, ends);
            }
            ids.add(a.id);
            if (starts != null) {
                starts.add(i);
                ends.add(i + a.content.length());
            }
            i += a.content.length();
            if (a.rstrip) {
                while (i < n && isPySpace(text.charAt(i))) {
                    i++;
                }
            }
            segStart = i;
        }
        if (segStart < n) {
            bpe.encode(text, segStart, n, ids, starts, ends);
        }
    }

    private Added matchAdded(String text, int i) {
        for (Added a : added) {
            if (text.startsWith(a.content, i)) {
                return a;
            }
        }
        return null;
    }

    /** Python's {@code str.isspace} (what {@code str.strip()} removes). */
    private static boolean isPySpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x85;
    }

    // ---------------------------------------------------------------- decoding

    /** Decodes keeping special tokens, without clean-up (exact inverse of {@link #encode}). */
    public String decode(int[] ids) {
        return decode(ids, false, false);
    }

    /**
     * Decodes as transformers' slow tokenizer does (see the class comment).
     *
     * @throws IllegalArgumentException naming the first id the tokenizer does not have
     */
    public String decode(int[] ids, boolean skipSpecialTokens, boolean cleanUpTokenizationSpaces) {
        Objects.requireNonNull(ids, "ids");
        StringBuilder out = new StringBuilder(ids.length * 4);
        byte[] buf = new byte[Math.max(16, ids.length * 4)];
        int n = 0;
        boolean anySub = false;
        for (int id : ids) {
            checkId(id);
            if (skipSpecialTokens && special[id]) {
                continue;
            }
            if (legacyAdded[id]) {
                if (n > 0) {
                    if (anySub) {
                        out.append(' ');
                    }
                    Utf8.decode(buf, 0, n, out);
                    n = 0;
                    anySub = true;
                }
                if (anySub) {
                    out.append(' ');
                }
                out.append(idToToken[id]);
                anySub = true;
                continue;
            }
            byte[] b = idBytes[id];
            if (n + b.length > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, n + b.length));
            }
            System.arraycopy(b, 0, buf, n, b.length);
            n += b.length;
        }
        if (n > 0) {
            if (anySub) {
                out.append(' ');
            }
            Utf8.decode(buf, 0, n, out);
        }
        String text = out.toString();
        return cleanUpTokenizationSpaces ? cleanUpTokenization(text) : text;
    }

    /** transformers' {@code clean_up_tokenization}, replacement by replacement in its order. */
    public static String cleanUpTokenization(String text) {
        return text.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",")
                .replace(" ' ", "'").replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s")
                .replace(" 've", "'ve").replace(" 're", "'re");
    }

    /** A new incremental decoder (clean-up off); see {@link StreamDecoder}. */
    public StreamDecoder newStreamDecoder(boolean skipSpecialTokens) {
        return new StreamDecoder(this, skipSpecialTokens);
    }

    void checkId(int id) {
        if (id < 0 || id >= idToToken.length || idToToken[id] == null) {
            throw new IllegalArgumentException("unknown token id " + id + " (vocabulary has ids 0.."
                    + (idToToken.length - 1) + ")");
        }
    }

    boolean isSpecial(int id) {
        return special[id];
    }

    boolean isLegacyAdded(int id) {
        return legacyAdded[id];
    }

    byte[] tokenBytes(int id) {
        return idBytes[id];
    }

    // ---------------------------------------------------------------- accessors

    /** Size of the base vocabulary (transformers' {@code vocab_size}; 50265 for OPT). */
    public int vocabSize() {
        return vocabSize;
    }

    /** The BOS id (2 for OPT), -1 when there is none. */
    public int bosTokenId() {
        return bosId;
    }

    /** The EOS id (2 for OPT), -1 when there is none. */
    public int eosTokenId() {
        return eosId;
    }

    /** The padding id (1 for OPT), -1 when there is none. */
    public int padTokenId() {
        return padId;
    }

    /** The id of the unknown token (2 for OPT: {@code </s>}), -1 when there is none. */
    public int unkTokenId() {
        return unkId;
    }

    /** Whether {@code encode(text)} prepends the BOS (true for OPT). */
    public boolean addBosToken() {
        return addBos;
    }

    /** The token string of an id (byte-level, e.g. {@code "Ġworld"}). */
    public Optional<String> idToToken(int id) {
        return id >= 0 && id < idToToken.length ? Optional.ofNullable(idToToken[id]) : Optional.empty();
    }

    /** The id of a token string (byte-level), if the vocabulary or the added tokens have it. */
    public OptionalInt tokenToId(String token) {
        Integer id = tokenToId.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** Ids that {@code skipSpecialTokens} removes ({1, 2} for OPT). Unmodifiable. */
    public Set<Integer> specialTokenIds() {
        return specialIds;
    }

    @Override
    public String toString() {
        return "OptTokenizer[vocabSize=" + vocabSize + ", bos=" + bosId + ", eos=" + eosId + ", pad=" + padId
                + ", unk=" + unkId + ", addBos=" + addBos + ", added=" + added.length + "]";
    }

    /**
     * Incremental detokenizer for generation: {@link #push(int)} returns the text that became complete
     * with that id, holding back a trailing UTF-8 sequence that later bytes could still complete (so a
     * character split over several byte-level tokens, such as an emoji, is never emitted in pieces or as
     * U+FFFD); {@link #finish()} flushes the rest, an incomplete tail becoming U+FFFD as in
     * {@link OptTokenizer#decode}. The concatenation of every push and the finish equals
     * {@code tokenizer.decode(allIds, skipSpecialTokens, false)}.
     *
     * <p>Created by {@link OptTokenizer#newStreamDecoder(boolean)}. Mutable and <em>not</em> thread-safe:
     * use one per generated sequence. After {@link #finish()} it is empty again and can be reused.
     */
    public static final class StreamDecoder {
        private final OptTokenizer tokenizer;
        private final boolean skipSpecialTokens;
        private byte[] pending = new byte[16];
        private int pendingLength;
        /** Some sub-text (byte run or legacy added token) has been started: the next one needs a space. */
        private boolean anySubText;
        /** The current sub-text is a run of byte-level tokens. */
        private boolean inByteRun;

        StreamDecoder(OptTokenizer tokenizer, boolean skipSpecialTokens) {
            this.tokenizer = tokenizer;
            this.skipSpecialTokens = skipSpecialTokens;
        }

        /**
         * Adds one id; returns the newly completed text (possibly empty).
         *
         * @throws IllegalArgumentException for an id the tokenizer does not have
         */
        public String push(int id) {
            tokenizer.checkId(id);
            if (skipSpecialTokens && tokenizer.isSpecial(id)) {
                return "";
            }
            StringBuilder out = new StringBuilder();
            if (tokenizer.isLegacyAdded(id)) {
                flushAll(out);
                if (anySubText) {
                    out.append(' ');
                }
                out.append(tokenizer.idToToken(id).orElseThrow());
                anySubText = true;
                inByteRun = false;
                return out.toString();
            }
            byte[] b = tokenizer.tokenBytes(id);
            if (!inByteRun) {
                if (anySubText) {
                    out.append(' ');
                }
                anySubText = true;
                inByteRun = true;
            }
            if (pendingLength + b.length > pending.length) {
                pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + b.length));
            }
            System.arraycopy(b, 0, pending, pendingLength, b.length);
            pendingLength += b.length;
            int tail = Utf8.incompleteTail(pending, pendingLength);
            int ready = pendingLength - tail;
            Utf8.decode(pending, 0, ready, out);
            System.arraycopy(pending, ready, pending, 0, tail);
            pendingLength = tail;
            return out.toString();
        }

        /** Flushes what is held back (an incomplete sequence becomes U+FFFD) and resets the decoder. */
        public String finish() {
            StringBuilder out = new StringBuilder();
            flushAll(out);
            anySubText = false;
            inByteRun = false;
            return out.toString();
        }

        private void flushAll(StringBuilder out) {
            Utf8.decode(pending, 0, pendingLength, out);
            pendingLength = 0;
        }
    }
}
