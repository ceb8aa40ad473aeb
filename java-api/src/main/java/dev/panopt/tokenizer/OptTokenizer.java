package dev.panopt.tokenizer;

import dev.panopt.checkpoint.CheckpointException;
import dev.panopt.checkpoint.GgufFile;
import dev.panopt.checkpoint.GgufWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
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
 * rest is cut by GPT-2's pre-tokenizer regex (Unicode {@code \s}, {@code \p{L}}, {@code \p{N}}), each
 * piece's UTF-8 bytes mapped to GPT-2's byte alphabet and merged by rank. An unpaired surrogate in the
 * text is encoded as U+FFFD.
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
    private final Vocabulary vocabulary;
    private final TokenEncoder encoder;
    private final TokenDecoder decoder;
    private final boolean addBos;
    /** Kept to write the tokenizer into a GGUF file ({@link #writeGguf}). */
    private final TokenizerFiles.Merges merges;

    private OptTokenizer(TokenizerFiles.Contents files) {
        vocabulary = new Vocabulary(files.vocab(), files.roles(), files.additionalSpecial(), files.addedTokens());
        addBos = files.addBos();
        merges = files.merges();
        int unkId = vocabulary.unkId();
        encoder = new TokenEncoder(vocabulary, new ByteLevelBpe(files.vocab(), files.merges(), unkId >= 0 ? unkId : 0),
                addBos);
        decoder = new TokenDecoder(vocabulary);
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
     * <p>An added token's id must lie below the end of the vocabulary's ids plus the number of added
     * tokens the files list (each can add at most one id); any other id, such as a hostile
     * {@code 2147483646}, is rejected rather than sized into a table.
     *
     * <p>A checkpoint directory of the hub (facebook/opt-*) holds these files; a checkpoint without them
     * (such as the Panopt repository's test checkpoints) needs another directory: the repository bundles
     * OPT's tokenizer, identical to facebook/opt-125m's, in {@code conformance/fixtures/tokenizer}.
     *
     * <p>A GGUF file (a regular file instead of a directory) is read as {@link #fromGguf} reads it: a model
     * converted by {@code OptGguf} carries its tokenizer, so one file is enough.
     *
     * @param directory the tokenizer directory, or a {@code .gguf} file
     * @return the tokenizer
     * @throws CheckpointException naming the file when a file is missing or malformed, or when an added
     *     token's id is out of range (the message names the id); naming every file looked for when the
     *     directory has none of them
     * @throws IOException if a file cannot be read
     */
    public static OptTokenizer fromPretrained(Path directory) throws IOException {
        if (java.nio.file.Files.isRegularFile(directory)) {
            try (GgufFile f = GgufFile.open(directory)) {
                return fromGguf(f);
            }
        }
        return new OptTokenizer(TokenizerFiles.readDirectory(directory));
    }

    /**
     * Reads the tokenizer a GGUF file embeds as GGUF's {@code tokenizer.ggml.*} keys: {@code model} must be
     * {@code "gpt2"} and {@code pre} (if present) {@code "gpt-2"}; {@code tokens}, {@code token_type}
     * (control tokens are special, user-defined ones added tokens), {@code merges}, the
     * {@code bos/eos/unknown/padding_token_id} roles and {@code add_bos_token} (default true, as OPT's).
     * A file {@link #writeGguf} wrote gives back a tokenizer equal to the one written.
     *
     * @param file an open GGUF file; not retained
     * @return the tokenizer
     * @throws CheckpointException naming the key that is missing, of the wrong type or inconsistent
     */
    public static OptTokenizer fromGguf(GgufFile file) throws CheckpointException {
        java.util.Objects.requireNonNull(file, "file");
        return new OptTokenizer(GgufTokenizer.read(file));
    }

    /**
     * Adds this tokenizer to a GGUF file being written, as the {@code tokenizer.ggml.*} keys that
     * {@link #fromGguf} reads (and llama.cpp's {@code gpt2} vocabulary loader takes).
     *
     * @param writer the writer; none of these keys may have been put yet
     * @throws IllegalArgumentException if GGUF's keys cannot express this tokenizer exactly (an added token
     *     with {@code lstrip}/{@code rstrip}, one string under two ids, a special token outside the base
     *     vocabulary that decodes as a word), naming the token, or a key was already put
     */
    public void writeGguf(GgufWriter writer) {
        java.util.Objects.requireNonNull(writer, "writer");
        GgufTokenizer.write(vocabulary, merges, addBos, writer);
    }

    /**
     * Loads a local tokenizer directory or the tokenizer of a Hugging Face hub model, as HF's
     * {@code AutoTokenizer.from_pretrained("facebook/opt-125m")}: a string naming an existing path is
     * that path ({@link #fromPretrained(Path)}); otherwise it must be a model id
     * {@code org/name[@revision]}, whose tokenizer files (no weights) {@link dev.panopt.hub.HubClient#shared()}
     * finds in the Hugging Face cache or downloads into it ({@link dev.panopt.hub.HubClient#resolveTokenizer}).
     *
     * @param pathOrModelId an existing directory, or a hub model id {@code org/name[@revision]}
     * @return the tokenizer
     * @throws CheckpointException naming the file when a file is missing or malformed
     * @throws dev.panopt.hub.HubException if the hub model's tokenizer cannot be had (its reason says why)
     * @throws IOException if a file cannot be read or downloaded, or the string is neither a path nor a model id
     */
    public static OptTokenizer fromPretrained(String pathOrModelId) throws IOException {
        java.util.Objects.requireNonNull(pathOrModelId, "pathOrModelId");
        return fromPretrained(dev.panopt.hub.HubClient.shared().resolveTokenizer(pathOrModelId));
    }

    /**
     * Loads {@code vocab.json} and {@code merges.txt} with OPT's special tokens and settings.
     *
     * @param vocabJson the {@code vocab.json} file (token string to id)
     * @param mergesTxt the {@code merges.txt} file (one merge per line, by rank)
     * @return the tokenizer
     * @throws CheckpointException naming the file when a file is missing or malformed
     * @throws IOException if a file cannot be read
     */
    public static OptTokenizer fromFiles(Path vocabJson, Path mergesTxt) throws IOException {
        java.util.Objects.requireNonNull(vocabJson, "vocabJson");
        java.util.Objects.requireNonNull(mergesTxt, "mergesTxt");
        return new OptTokenizer(TokenizerFiles.readVocabAndMerges(vocabJson, mergesTxt));
    }

    // ---------------------------------------------------------------- encoding

    /**
     * Encodes with special tokens (the BOS {@code </s>} first).
     *
     * @param text the text
     * @return the token ids
     */
    public int[] encode(String text) {
        return encode(text, true);
    }

    /**
     * Encodes; with {@code addSpecialTokens} the BOS is prepended when {@link #addBosToken()}.
     *
     * @param text             the text
     * @param addSpecialTokens whether to prepend the BOS
     * @return the token ids
     */
    public int[] encode(String text, boolean addSpecialTokens) {
        return encoder.encode(text, addSpecialTokens);
    }

    /**
     * Encodes with tokens and character offsets (see {@link Encoding} for the offset rule).
     *
     * @param text             the text
     * @param addSpecialTokens whether to prepend the BOS (when {@link #addBosToken()})
     * @return the ids, token strings and offsets
     */
    public Encoding encodeWithOffsets(String text, boolean addSpecialTokens) {
        return encoder.encodeWithOffsets(text, addSpecialTokens);
    }

    /**
     * {@code encodePair(first, second, true)}.
     *
     * @param first  the first text
     * @param second the second text
     * @return the pair's ids, tokens, offsets and sequence ids
     */
    public PairEncoding encodePair(String first, String second) {
        return encodePair(first, second, true);
    }

    /**
     * Encodes a text pair as the slow GPT-2 tokenizer does: {@code [bos] + ids(first) + [bos] + ids(second)}
     * when special tokens are added and {@link #addBosToken()}, plain concatenation otherwise.
     *
     * @param first            the first text
     * @param second           the second text
     * @param addSpecialTokens whether to insert the BOS tokens
     * @return the pair's ids, tokens, offsets (each relative to its own text) and sequence ids
     */
    public PairEncoding encodePair(String first, String second, boolean addSpecialTokens) {
        return encoder.encodePair(first, second, addSpecialTokens);
    }

    /**
     * Encodes a text pair as {@link #encodePair(String, String, boolean)} does, truncated per
     * {@code options} (strategy, side, {@code maxLength} counting the inserted BOS tokens; see
     * {@link EncodeOptions}), as transformers' {@code tokenizer(first, second, truncation=...,
     * max_length=...)} does. A pair is not padded.
     *
     * @param first   the first text
     * @param second  the second text
     * @param options special tokens and truncation; padding must be {@link EncodeOptions.Padding#NONE}
     * @return the pair's ids, tokens, offsets (each into its own text) and sequence ids
     * @throws IllegalArgumentException if the options ask for padding, or the truncation cannot be
     *     done (no {@code maxLength}, or the text to cut would lose every token)
     */
    public PairEncoding encodePair(String first, String second, EncodeOptions options) {
        return encoder.encodePair(first, second, options);
    }

    /**
     * A text pair too long for {@code maxLength} as overlapping windows, as Hugging Face tokenizers
     * return it with {@code return_overflowing_tokens=True} and {@code stride} (what transformers'
     * question-answering pipeline feeds the model): the text that {@link EncodeOptions.Truncation#ONLY_SECOND}
     * (or {@code ONLY_FIRST}) names is split into windows of the tokens {@code maxLength} leaves beside
     * the other text and the BOS tokens; consecutive windows share {@link EncodeOptions#stride()}
     * tokens; they run from the {@link EncodeOptions#truncationSide()}'s opposite end (the start for
     * RIGHT) until one reaches the other end. Each window is a whole pair ({@code [bos] first [bos]
     * window}) whose offsets point into the original texts. A pair that fits is one window.
     *
     * @param first   the first text
     * @param second  the second text
     * @param options {@code ONLY_FIRST} or {@code ONLY_SECOND} truncation, {@code maxLength}, stride,
     *                side, special tokens; padding must be {@link EncodeOptions.Padding#NONE}
     * @return the windows in order; unmodifiable
     * @throws IllegalArgumentException if the strategy is not {@code ONLY_FIRST}/{@code ONLY_SECOND},
     *     {@code maxLength} is unset or leaves no token for the split text, the stride is not less
     *     than a window's share of it (when it must be split), or the options ask for padding
     */
    public List<PairEncoding> encodePairWindows(String first, String second, EncodeOptions options) {
        java.util.Objects.requireNonNull(first, "first");
        java.util.Objects.requireNonNull(second, "second");
        return encoder.encodePairWindows(encoder.encodeWithOffsets(first, false),
                encoder.encodeWithOffsets(second, false), options);
    }

    /**
     * {@link #encodePairWindows(String, String, EncodeOptions)} of texts already encoded without special
     * tokens (as {@code encodeWithOffsets(text, false)} returns them, possibly cut, e.g. a question to
     * its first 64 tokens); the windows' offsets are the given encodings' offsets.
     *
     * @param first   the first text's tokens, without special tokens
     * @param second  the second text's tokens, without special tokens
     * @param options as for the text form
     * @return the windows in order; unmodifiable
     * @throws IllegalArgumentException as for the text form, or if an encoding's arrays differ in length
     */
    public List<PairEncoding> encodePairWindows(Encoding first, Encoding second, EncodeOptions options) {
        return encoder.encodePairWindows(first, second, options);
    }

    /**
     * Encodes, truncates and pads a batch (see {@link EncodeOptions}).
     *
     * @param texts   the texts, one per row; no null elements
     * @param options special tokens, truncation and padding
     * @return per row the ids, attention mask and offsets
     * @throws NullPointerException if {@code texts}, an element of it or {@code options} is null
     * @throws IllegalStateException if padding is needed and the tokenizer has no pad token
     * @throws IllegalArgumentException if the truncation cannot be done: a strategy without
     *     {@code maxLength}, {@code ONLY_SECOND} (no pair here), or a row that would lose every token
     */
    public BatchEncoding encodeBatch(List<String> texts, EncodeOptions options) {
        return encoder.encodeBatch(texts, options);
    }

    // ---------------------------------------------------------------- decoding

    /**
     * Decodes keeping special tokens, without clean-up (exact inverse of {@link #encode}).
     *
     * @param ids the token ids
     * @return the text
     * @throws IllegalArgumentException naming the first id the tokenizer does not have
     */
    public String decode(int[] ids) {
        return decode(ids, false, false);
    }

    /**
     * Decodes as transformers' slow tokenizer does (see the class comment).
     *
     * @param ids                       the token ids
     * @param skipSpecialTokens         whether to drop {@link #specialTokenIds()}
     * @param cleanUpTokenizationSpaces whether to apply {@link #cleanUpTokenization}
     * @return the text
     * @throws IllegalArgumentException naming the first id the tokenizer does not have
     */
    public String decode(int[] ids, boolean skipSpecialTokens, boolean cleanUpTokenizationSpaces) {
        return decoder.decode(ids, skipSpecialTokens, cleanUpTokenizationSpaces);
    }

    /**
     * transformers' {@code clean_up_tokenization}, replacement by replacement in its order.
     *
     * @param text the decoded text
     * @return the text without the spaces before punctuation and contractions
     */
    public static String cleanUpTokenization(String text) {
        return TokenDecoder.cleanUpTokenization(text);
    }

    /**
     * A new incremental decoder (clean-up off); see {@link StreamDecoder}.
     *
     * @param skipSpecialTokens whether to drop {@link #specialTokenIds()}
     * @return a decoder for one sequence
     */
    public StreamDecoder newStreamDecoder(boolean skipSpecialTokens) {
        return new StreamDecoder(new IncrementalDecoder(vocabulary, skipSpecialTokens));
    }

    // ---------------------------------------------------------------- accessors

    /** {@return the size of the base vocabulary (transformers' {@code vocab_size}; 50265 for OPT)} */
    public int vocabSize() {
        return vocabulary.baseSize();
    }

    /** {@return the BOS id (2 for OPT), -1 when there is none} */
    public int bosTokenId() {
        return vocabulary.bosId();
    }

    /** {@return the EOS id (2 for OPT), -1 when there is none} */
    public int eosTokenId() {
        return vocabulary.eosId();
    }

    /** {@return the padding id (1 for OPT), -1 when there is none} */
    public int padTokenId() {
        return vocabulary.padId();
    }

    /** {@return the id of the unknown token (2 for OPT: {@code </s>}), -1 when there is none} */
    public int unkTokenId() {
        return vocabulary.unkId();
    }

    /** {@return whether {@code encode(text)} prepends the BOS (true for OPT)} */
    public boolean addBosToken() {
        return addBos;
    }

    /**
     * The token string of an id (byte-level, e.g. {@code "Ġworld"}).
     *
     * @param id a token id
     * @return its token string, or empty if the tokenizer has no such id
     */
    public Optional<String> idToToken(int id) {
        return vocabulary.findToken(id);
    }

    /**
     * The id of a token string (byte-level), if the vocabulary or the added tokens have it.
     *
     * @param token a byte-level token string, e.g. {@code "Ġworld"}
     * @return its id, or empty if neither has it
     */
    public OptionalInt tokenToId(String token) {
        return vocabulary.findId(token);
    }

    /** {@return the ids that {@code skipSpecialTokens} removes ({1, 2} for OPT); unmodifiable} */
    public Set<Integer> specialTokenIds() {
        return vocabulary.specialIds();
    }

    @Override
    public String toString() {
        return "OptTokenizer[vocabSize=" + vocabSize() + ", bos=" + bosTokenId() + ", eos=" + eosTokenId() + ", pad="
                + padTokenId() + ", unk=" + unkTokenId() + ", addBos=" + addBos + ", added=" + encoder.addedCount() + "]";
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
        private final IncrementalDecoder state;

        StreamDecoder(IncrementalDecoder state) {
            this.state = state;
        }

        /**
         * Adds one id; returns the newly completed text (possibly empty).
         *
         * @param id the next token id
         * @return the text completed by this id, possibly empty
         * @throws IllegalArgumentException for an id the tokenizer does not have
         */
        public String push(int id) {
            return state.push(id);
        }

        /**
         * Flushes what is held back (an incomplete sequence becomes U+FFFD) and resets the decoder.
         *
         * @return the held-back text, possibly empty
         */
        public String finish() {
            return state.finish();
        }
    }
}
