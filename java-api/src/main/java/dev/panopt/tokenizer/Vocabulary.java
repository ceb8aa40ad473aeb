package dev.panopt.tokenizer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
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
    private final byte[][] idBytes;
    private final Map<String, Integer> tokenToId;
    private final boolean[] special;
    private final boolean[] legacyAdded;
    private final Set<Integer> specialIds;
    private final List<Added> added;
    private final int bosId;
    private final int eosId;
    private final int padId;
    private final int unkId;

    Vocabulary(Map<String, Integer> vocab, Map<String, TokenSpec> roles, List<TokenSpec> additionalSpecial,
               List<TokenSpec> addedTokens) {
        this.baseSize = vocab.size();
        Map<String, Integer> t2i = new HashMap<>(vocab);
        int next = 0;
        for (int id : vocab.values()) {
            next = Math.max(next, id + 1);
        }
        for (TokenSpec a : addedTokens) {
            if (a.id() >= 0) {
                t2i.put(a.content(), a.id());
                next = Math.max(next, a.id() + 1);
            }
        }
        List<TokenSpec> all = new ArrayList<>();
        all.addAll(roles.values());
        all.addAll(additionalSpecial);
        all.addAll(addedTokens);
        for (TokenSpec s : all) {
            if (!t2i.containsKey(s.content())) {
                t2i.put(s.content(), next++);
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
            specials.add(t2i.get(s.content()));
        }
        for (TokenSpec s : additionalSpecial) {
            specials.add(t2i.get(s.content()));
        }
        for (TokenSpec s : addedTokens) {
            if (s.special()) {
                specials.add(t2i.get(s.content()));
            }
        }
        for (int id : specials) {
            special[id] = true;
        }
        specialIds = Collections.unmodifiableSet(specials);
        legacyAdded = new boolean[next];
        for (TokenSpec s : addedTokens) {
            int id = t2i.get(s.content());
            if (!special[id]) {
                legacyAdded[id] = true;
            }
        }
        for (TokenSpec s : additionalSpecial) {
            int id = t2i.get(s.content());
            if (id >= baseSize) {
                legacyAdded[id] = true;
            }
        }
        Map<String, Added> addedMap = new LinkedHashMap<>();
        for (TokenSpec s : all) {
            if (!s.content().isEmpty()) {
                addedMap.putIfAbsent(s.content(), new Added(s.content(), t2i.get(s.content()), s.lstrip(), s.rstrip()));
            }
        }
        added = List.copyOf(addedMap.values());
    }

    private static int roleId(Map<String, TokenSpec> roles, String role, Map<String, Integer> t2i) {
        TokenSpec s = roles.get(role);
        return s == null ? -1 : t2i.get(s.content());
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
        Integer id = tokenToId.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** The bytes an id decodes to (its byte-level characters mapped back to bytes); shared, do not modify. */
    byte[] tokenBytes(int id) {
        return idBytes[id];
    }

    boolean isSpecial(int id) {
        return special[id];
    }

    /** Added tokens that are not special: decoded as whole words between spaces. */
    boolean isLegacyAdded(int id) {
        return legacyAdded[id];
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
