package dev.panopt.tokenizer;

import dev.panopt.checkpoint.CheckpointException;
import dev.panopt.checkpoint.GgufFile;
import dev.panopt.checkpoint.GgufType;
import dev.panopt.checkpoint.GgufWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * OPT's tokenizer as GGUF's {@code tokenizer.ggml.*} keys (the names of llama.cpp's
 * {@code LLM_KV_TOKENIZER_*}): {@code model = "gpt2"}, {@code pre = "gpt-2"}, {@code tokens} (every id's
 * byte-level string), {@code token_type} (llama.cpp's {@code llama_token_type}: 1 normal, 3 control = a
 * special token, 4 user-defined = an added token that is not special, 5 unused = an id without a token),
 * {@code merges} ({@code "a b"} in rank order), the {@code bos/eos/unknown/padding_token_id} of the roles
 * that exist and {@code add_bos_token}.
 *
 * <p>Reading rebuilds what the tokenizer files said: the base vocabulary is every normal or control token up
 * to the last normal one; control tokens are special (a role's, else an additional special token); control
 * tokens past the base vocabulary and user-defined ones are added tokens at their ids. Writing checks that
 * reading will rebuild the same tokenizer and refuses one that GGUF's keys cannot express (an added token
 * with {@code lstrip}/{@code rstrip}, two ids of one string, a special token outside the base vocabulary
 * that the slow tokenizer would decode as a word). Stateless; thread-safe.
 */
final class GgufTokenizer {
    private GgufTokenizer() {}

    static final String MODEL = "tokenizer.ggml.model";
    static final String PRE = "tokenizer.ggml.pre";
    static final String TOKENS = "tokenizer.ggml.tokens";
    static final String TOKEN_TYPE = "tokenizer.ggml.token_type";
    static final String MERGES = "tokenizer.ggml.merges";
    static final String BOS = "tokenizer.ggml.bos_token_id";
    static final String EOS = "tokenizer.ggml.eos_token_id";
    static final String UNK = "tokenizer.ggml.unknown_token_id";
    static final String PAD = "tokenizer.ggml.padding_token_id";
    static final String ADD_BOS = "tokenizer.ggml.add_bos_token";
    static final String ADD_EOS = "tokenizer.ggml.add_eos_token";

    static final String GPT2 = "gpt2";
    static final String GPT2_PRE = "gpt-2";

    /** llama.cpp's {@code llama_token_type}. */
    static final int UNDEFINED = 0;
    static final int NORMAL = 1;
    static final int UNKNOWN = 2;
    static final int CONTROL = 3;
    static final int USER_DEFINED = 4;
    static final int UNUSED = 5;
    static final int BYTE = 6;

    /** Role → key, in the order of {@link TokenizerFiles}' roles. */
    private static final Map<String, String> ROLE_KEYS = new LinkedHashMap<>();

    static {
        ROLE_KEYS.put("bos_token", BOS);
        ROLE_KEYS.put("eos_token", EOS);
        ROLE_KEYS.put("unk_token", UNK);
        ROLE_KEYS.put("pad_token", PAD);
    }

    private static boolean plain(long type) {
        return type == NORMAL || type == UNDEFINED || type == UNKNOWN || type == BYTE;
    }

    /** Reads the tokenizer keys of {@code f}; every problem is a {@link CheckpointException} naming the key. */
    static TokenizerFiles.Contents read(GgufFile f) throws CheckpointException {
        String model = f.getString(MODEL);
        if (!model.equals(GPT2)) {
            throw new CheckpointException(f.path(), "key " + MODEL + " is \"" + model + "\"; OPT's tokenizer is \""
                    + GPT2 + "\" (byte-level BPE)");
        }
        if (f.keys().contains(PRE) && !f.getString(PRE).equals(GPT2_PRE)) {
            throw new CheckpointException(f.path(), "key " + PRE + " is \"" + f.getString(PRE)
                    + "\"; only GPT-2's pre-tokenizer (\"" + GPT2_PRE + "\") is implemented");
        }
        List<String> tokens = f.getStringArray(TOKENS);
        long[] types = new long[tokens.size()];
        if (f.keys().contains(TOKEN_TYPE)) {
            types = f.getLongArray(TOKEN_TYPE);
            if (types.length != tokens.size()) {
                throw new CheckpointException(f.path(), "key " + TOKEN_TYPE + " has " + types.length + " entries, "
                        + TOKENS + " has " + tokens.size());
            }
        } else {
            java.util.Arrays.fill(types, NORMAL);
        }
        int baseEnd = 0;
        for (int id = 0; id < types.length; id++) {
            if (types[id] < UNDEFINED || types[id] > BYTE) {
                throw new CheckpointException(f.path(), "key " + TOKEN_TYPE + "[" + id + "] is " + types[id]
                        + ", not a llama_token_type (0..6)");
            }
            if (plain(types[id])) {
                baseEnd = id + 1;
            }
        }
        if (baseEnd == 0) {
            throw new CheckpointException(f.path(), "key " + TOKENS + " has no normal token");
        }
        Map<String, TokenSpec> roles = new LinkedHashMap<>();
        for (Map.Entry<String, String> r : ROLE_KEYS.entrySet()) {
            if (f.keys().contains(r.getValue())) {
                long id = f.getLong(r.getValue());
                if (id < 0 || id >= tokens.size() || types[(int) id] == UNUSED) {
                    throw new CheckpointException(f.path(), "key " + r.getValue() + " is " + id + ", not the id of a token"
                            + " (" + TOKENS + " has " + tokens.size() + ")");
                }
                roles.put(r.getKey(), TokenSpec.special(tokens.get((int) id)));
            }
        }
        TokenTable vocab = new TokenTable(baseEnd);
        List<TokenSpec> additional = new ArrayList<>();
        List<TokenSpec> added = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (int id = 0; id < tokens.size(); id++) {
            long type = types[id];
            if (type == UNUSED) {
                continue;
            }
            String t = tokens.get(id);
            if (t.isEmpty()) {
                throw new CheckpointException(f.path(), "key " + TOKENS + "[" + id + "] is empty");
            }
            Integer prev = seen.putIfAbsent(t, id);
            if (prev != null) {
                throw new CheckpointException(f.path(), "key " + TOKENS + ": token " + dev.panopt.internal.Json.write(t)
                        + " has two ids, " + prev + " and " + id);
            }
            boolean base = (plain(type) || type == CONTROL) && id < baseEnd;
            if (base) {
                vocab.put(t, id);
                if (type == CONTROL && !roles.containsValue(TokenSpec.special(t))) {
                    additional.add(TokenSpec.special(t));
                }
            } else if (type == USER_DEFINED || type == CONTROL) {
                added.add(new TokenSpec(t, false, false, type == CONTROL, id));
            } else {
                throw new CheckpointException(f.path(), "key " + TOKEN_TYPE + "[" + id + "]: a plain token past the"
                        + " last normal one");
            }
        }
        List<String[]> pairs = new ArrayList<>();
        if (f.keys().contains(MERGES)) {
            List<String> merges = f.getStringArray(MERGES);
            for (int i = 0; i < merges.size(); i++) {
                String m = merges.get(i);
                int sp = m.indexOf(' ');
                if (sp <= 0 || sp == m.length() - 1 || m.indexOf(' ', sp + 1) >= 0) {
                    throw new CheckpointException(f.path(), "key " + MERGES + "[" + i + "] is "
                            + dev.panopt.internal.Json.write(m) + ", not two tokens separated by one space");
                }
                pairs.add(new String[] {m.substring(0, sp), m.substring(sp + 1)});
            }
        }
        boolean addBos = !f.keys().contains(ADD_BOS) || f.getBoolean(ADD_BOS);
        if (f.keys().contains(ADD_EOS) && f.getBoolean(ADD_EOS)) {
            throw new CheckpointException(f.path(), "key " + ADD_EOS + " is true; OPT's tokenizer appends nothing");
        }
        return new TokenizerFiles.Contents(vocab, TokenizerFiles.Merges.of(pairs), roles, additional, added, addBos);
    }

    /**
     * Adds the tokenizer keys.
     *
     * @throws IllegalArgumentException naming the token when the keys cannot express the tokenizer exactly
     */
    static void write(Vocabulary v, TokenizerFiles.Merges merges, boolean addBos, GgufWriter w) {
        for (Vocabulary.Added a : v.addedTokens()) {
            if (a.lstrip() || a.rstrip()) {
                throw new IllegalArgumentException("token " + a.content() + " strips whitespace (lstrip/rstrip), which"
                        + " GGUF's tokenizer keys cannot record");
            }
        }
        int n = v.size();
        List<String> tokens = new ArrayList<>(n);
        long[] types = new long[n];
        int baseEnd = 0;
        Map<String, Integer> seen = new HashMap<>();
        for (int id = 0; id < n; id++) {
            String t = v.findToken(id).orElse(null);
            if (t == null) {
                tokens.add("");
                types[id] = UNUSED;
                continue;
            }
            Integer prev = seen.putIfAbsent(t, id);
            if (prev != null) {
                throw new IllegalArgumentException("token " + t + " has two ids (" + prev + " and " + id
                        + "), which GGUF's token list cannot record");
            }
            tokens.add(t);
            if (v.isSpecial(id) && v.isLegacyAdded(id)) {
                throw new IllegalArgumentException("special token " + t + " (id " + id + ") lies outside the base"
                        + " vocabulary and decodes as a word, which GGUF's token types cannot record");
            }
            types[id] = v.isSpecial(id) ? CONTROL : v.isLegacyAdded(id) ? USER_DEFINED : NORMAL;
            if (types[id] == NORMAL) {
                baseEnd = id + 1;
            }
        }
        for (int id = 0; id < n; id++) {
            boolean readAsBase = (types[id] == NORMAL || types[id] == CONTROL) && id < baseEnd;
            if (types[id] != UNUSED && readAsBase != v.inBase(id)) {
                throw new IllegalArgumentException("token " + tokens.get(id) + " (id " + id + ") is "
                        + (v.inBase(id) ? "" : "not ") + "in the base vocabulary but would be read back "
                        + (readAsBase ? "into" : "outside") + " it from GGUF's token types");
            }
        }
        List<String> mergeList = new ArrayList<>(merges.size());
        String text = merges.text();
        for (int i = 0; i < merges.size(); i++) {
            mergeList.add(text.substring(merges.first()[i], merges.end()[i]));
        }
        w.putString(MODEL, GPT2);
        w.putString(PRE, GPT2_PRE);
        w.putStringArray(TOKENS, tokens);
        w.putIntegerArray(TOKEN_TYPE, GgufType.INT32, types);
        w.putStringArray(MERGES, mergeList);
        int[] roleIds = {v.bosId(), v.eosId(), v.unkId(), v.padId()};
        String[] keys = {BOS, EOS, UNK, PAD};
        for (int i = 0; i < keys.length; i++) {
            if (roleIds[i] >= 0) {
                w.putUInt32(keys[i], roleIds[i]);
            }
        }
        w.putBool(ADD_BOS, addBos);
        w.putBool(ADD_EOS, false);
    }
}
