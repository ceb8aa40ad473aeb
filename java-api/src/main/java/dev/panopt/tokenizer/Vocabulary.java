package dev.panopt.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The id tables of a tokenizer, built from what its files say: token string ↔ id (base vocabulary,
 * then added tokens at their ids, then named tokens the vocabulary lacks at the next free ids), each
 * id's byte-level bytes, which ids are special and which are "legacy" added tokens (decoded as whole
 * words between spaces, as the slow tokenizer does), the role ids, and the tokens split out of the text
 * before BPE. Immutable; safe to share.
 */
final class Vocabulary {
    /** A token split out of the text before BPE. */
    record Added(String content, int id, boolean lstrip, boolean rstrip) {}

    private final int baseSize;
    private final String[] idToToken;
    /** Each id's bytes, computed on first use (racy but safe: a {@link Bytes} publishes its array). */
    private final Bytes[] idBytes;

    private record Bytes(byte[] value) {}
    /** The base vocabulary (shared with the BPE; never changed after loading). */
    private final TokenTable base;
    /** Added and named tokens: ids beyond the base vocabulary's, or overriding them. */
    private final Map<String, Integer> extraIds;
    private final boolean[] special;
    private final boolean[] legacyAdded;
    private final Set<Integer> specialIds;
    private final List<Added> added;
    private final int bosId;
    private final int eosId;
    private final int padId;
    private final int unkId;

    /** @param vocab the base vocabulary: kept (shared with the BPE), never changed */
    Vocabulary(TokenTable vocab, Map<String, TokenSpec> roles, List<TokenSpec> additionalSpecial,
               List<TokenSpec> addedTokens) {
        this.baseSize = vocab.size();
        List<TokenSpec> all = new ArrayList<>();
        all.addAll(roles.values());
        all.addAll(additionalSpecial);
        all.addAll(addedTokens);
        // The base table is shared with the BPE, not copied: the added tokens go to a small map that wins.
        this.base = vocab;
        Map<String, Integer> extra = new HashMap<>();
        int next = vocab.maxValue() + 1;
        for (TokenSpec a : addedTokens) {
            if (a.id() >= 0) {
                extra.put(a.content(), a.id());
                next = Math.max(next, a.id() + 1);
            }
        }
        for (TokenSpec s : all) {
            if (!extra.containsKey(s.content()) && vocab.get(s.content()) < 0) {
                extra.put(s.content(), next++);
            }
        }
        this.extraIds = Map.copyOf(extra);
        String[] tokens = new String[next];
        vocab.forEach((token, id) -> tokens[id] = token);
        extraIds.forEach((token, id) -> tokens[id] = token);
        idToToken = tokens;
        idBytes = new Bytes[next];
        bosId = roleId(roles, "bos_token");
        eosId = roleId(roles, "eos_token");
        padId = roleId(roles, "pad_token");
        unkId = roleId(roles, "unk_token");
        special = new boolean[next];
        Set<Integer> specials = new LinkedHashSet<>();
        for (TokenSpec s : roles.values()) {
            specials.add(id(s.content()));
        }
        for (TokenSpec s : additionalSpecial) {
            specials.add(id(s.content()));
        }
        for (TokenSpec s : addedTokens) {
            if (s.special()) {
                specials.add(id(s.content()));
            }
        }
        for (int id : specials) {
            special[id] = true;
        }
        specialIds = Collections.unmodifiableSet(specials);
        legacyAdded = new boolean[next];
        for (TokenSpec s : addedTokens) {
            int id = id(s.content());
            if (!special[id]) {
                legacyAdded[id] = true;
            }
        }
        for (TokenSpec s : additionalSpecial) {
            int id = id(s.content());
            if (id >= baseSize) {
                legacyAdded[id] = true;
            }
        }
        Map<String, Added> addedMap = new LinkedHashMap<>();
        for (TokenSpec s : all) {
            if (!s.content().isEmpty()) {
                addedMap.putIfAbsent(s.content(), new Added(s.content(), id(s.content()), s.lstrip(), s.rstrip()));
            }
        }
        added = List.copyOf(addedMap.values());
    }

    private int roleId(Map<String, TokenSpec> roles, String role) {
        TokenSpec s = roles.get(role);
        return s == null ? -1 : id(s.content());
    }

    /** The id of a token string, or -1. */
    private int id(String token) {
        Integer e = extraIds.get(token);
        return e != null ? e : base.get(token);
    }

    /**
     * Throws unless the tokenizer has {@code id}.
     *
     * @throws IllegalArgumentException naming the id and the range of ids
     */
    void checkId(int id) {
        if (id < 0 || id >= idToToken.length || idToToken[id] == null) {
            throw new IllegalArgumentException("unknown token id " + id + " (vocabulary has ids 0.."
                    + (idToToken.length - 1) + ")");
        }
    }

    /** The token string of an id the tokenizer has (see {@link #checkId}). */
    String token(int id) {
        return idToToken[id];
    }

    /** The token string of any id, empty where the tokenizer has none. */
    Optional<String> findToken(int id) {
        return id >= 0 && id < idToToken.length ? Optional.ofNullable(idToToken[id]) : Optional.empty();
    }

    /** The id of a token string, if the tokenizer has it. */
    OptionalInt findId(String token) {
        int id = id(token);
        return id < 0 ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** The bytes an id decodes to (its byte-level characters mapped back to bytes); shared, do not modify. */
    byte[] tokenBytes(int id) {
        Bytes b = idBytes[id];
        if (b == null) {
            b = new Bytes(ByteLevelBpe.tokenBytes(idToToken[id]));
            idBytes[id] = b;
        }
        return b.value();
    }

    boolean isSpecial(int id) {
        return special[id];
    }

    /** Added tokens that are not special: decoded as whole words between spaces. */
    boolean isLegacyAdded(int id) {
        return legacyAdded[id];
    }

    /** One past the largest id: the length of the id table (ids without a token are holes). */
    int size() {
        return idToToken.length;
    }

    /** Whether {@code id} is an id of the base vocabulary (the vocabulary file's), not of an added token. */
    boolean inBase(int id) {
        String t = idToToken[id];
        return t != null && base.get(t) == id;
    }

    /** Size of the base vocabulary. */
    int baseSize() {
        return baseSize;
    }

    /** Ids that {@code skipSpecialTokens} removes. Unmodifiable. */
    Set<Integer> specialIds() {
        return specialIds;
    }

    /** The tokens matched in text before BPE, first named first. */
    List<Added> addedTokens() {
        return added;
    }

    int bosId() {
        return bosId;
    }

    int eosId() {
        return eosId;
    }

    int padId() {
        return padId;
    }

    int unkId() {
        return unkId;
    }
}
