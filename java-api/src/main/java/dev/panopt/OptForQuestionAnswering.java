package dev.panopt;

import dev.panopt.tokenizer.EncodeOptions;
import dev.panopt.tokenizer.Encoding;
import dev.panopt.tokenizer.OptTokenizer;
import dev.panopt.tokenizer.PairEncoding;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.OptionalDouble;

/**
 * Hugging Face's {@code OPTForQuestionAnswering}: the decoder plus {@code qa_outputs}
 * (Linear(word_embed_proj_dim → 2) with bias) giving span start and end logits at every position.
 * A missing head is an error unless {@link LoadOptions.Builder#initializeMissingHead(long)} asks for
 * a new one. Ownership and thread-safety: see {@link OptPreTrainedModel}.
 */
public final class OptForQuestionAnswering extends OptPreTrainedModel {
    /** transformers' pipeline's max_seq_len when the model allows it. */
    private static final int DEFAULT_MAX_SEQ_LEN = 384;
    /** Windows run per forward: a bounded batch whatever the context's length. */
    private static final int WINDOWS_PER_FORWARD = 8;

    private OptForQuestionAnswering(NativeModel model, SessionOptions defaults) {
        super(model, defaults);
    }

    /**
     * Loads a checkpoint directory with default options (see {@link #fromPretrained(Path, LoadOptions)}).
     *
     * @param directory the checkpoint directory, or a {@code .gguf} file
     * @return the model; the caller closes it
     * @throws dev.panopt.checkpoint.CheckpointException if the directory does not hold a valid OPT
     *     checkpoint, or lacks {@code qa_outputs.weight} and the options do not ask for a new head
     * @throws IOException if a file cannot be read
     */
    public static OptForQuestionAnswering fromPretrained(Path directory) throws IOException {
        return fromPretrained(directory, LoadOptions.DEFAULT);
    }

    /**
     * Loads a checkpoint directory: {@code config.json} plus safetensors or PyTorch weights, single or
     * sharded, as {@link OptForCausalLM#fromPretrained(Path, LoadOptions)} describes.
     *
     * @param directory the checkpoint directory, or a {@code .gguf} file
     * @param options   backend, session options, preloading, progress, num_labels and a new head's seed
     * @return the model; the caller closes it
     * @throws dev.panopt.checkpoint.CheckpointException if the directory does not hold a valid OPT
     *     checkpoint, or lacks {@code qa_outputs.weight} and the options do not ask for a new head
     * @throws IOException if a file cannot be read
     */
    public static OptForQuestionAnswering fromPretrained(Path directory, LoadOptions options) throws IOException {
        NativeModel m = load(directory, options, (ckpt, c, o) -> taskHead(ckpt, c, o, "qa_outputs.weight",
                "qa_outputs.bias", 2, "OPTForQuestionAnswering"));
        return new OptForQuestionAnswering(m, options.sessionOptions());
    }

    /**
     * Loads a local checkpoint directory or a Hugging Face hub model {@code org/name[@revision]} with
     * default options (see {@link #fromPretrained(String, LoadOptions)}).
     *
     * @param pathOrModelId an existing directory, or a hub model id {@code org/name[@revision]}
     * @return the model; the caller closes it
     * @throws dev.panopt.checkpoint.CheckpointException if the directory does not hold a valid OPT checkpoint
     * @throws dev.panopt.hub.HubException if the hub model cannot be had (its reason says why)
     * @throws IOException if a file cannot be read or downloaded, or the string is neither a path nor a model id
     */
    public static OptForQuestionAnswering fromPretrained(String pathOrModelId) throws IOException {
        return fromPretrained(pathOrModelId, LoadOptions.DEFAULT);
    }

    /**
     * Loads a local checkpoint directory or a Hugging Face hub model {@code org/name[@revision]}, as
     * {@link OptForCausalLM#fromPretrained(String, LoadOptions)} describes.
     *
     * @param pathOrModelId an existing directory, or a hub model id {@code org/name[@revision]}
     * @param options       backend, session options, preloading and progress
     * @return the model; the caller closes it
     * @throws dev.panopt.checkpoint.CheckpointException if the directory does not hold a valid OPT checkpoint
     * @throws dev.panopt.hub.HubException if the hub model cannot be had (its reason says why)
     * @throws IOException if a file cannot be read or downloaded, or the string is neither a path nor a model id
     */
    public static OptForQuestionAnswering fromPretrained(String pathOrModelId, LoadOptions options) throws IOException {
        java.util.Objects.requireNonNull(pathOrModelId, "pathOrModelId");
        java.util.Objects.requireNonNull(options, "options");
        return fromPretrained(dev.panopt.hub.HubClient.shared().resolveModel(pathOrModelId), options);
    }

    /**
     * Start/end logits of one row on the internal session.
     *
     * @param inputIds [seq] token ids
     * @return start and end logits [1, seq]
     */
    public QuestionAnsweringOutput forward(int[] inputIds) {
        return forward(ForwardRequest.inputIds(inputIds).build());
    }

    /**
     * Start/end logits on the internal session.
     *
     * @param inputIds [batch, seq] token ids
     * @return start and end logits [batch, seq]
     */
    public QuestionAnsweringOutput forward(int[][] inputIds) {
        return forward(inputIds, null);
    }

    /**
     * Start/end logits on the internal session.
     *
     * @param inputIds      [batch, seq] token ids
     * @param attentionMask [batch, seq] of 0/1, or null for all ones
     * @return start and end logits [batch, seq]
     */
    public QuestionAnsweringOutput forward(int[][] inputIds, @Nullable int[][] attentionMask) {
        return forward(ForwardRequest.inputIds(inputIds).attentionMask(attentionMask).build());
    }

    /**
     * HF's {@code OPTForQuestionAnswering.forward}. With {@code startPositions} and
     * {@code endPositions} ([batch] each, both or neither) the loss is (CE(start) + CE(end)) / 2,
     * positions clamped to [0, seq_len] and seq_len ignored, as HF does: an out-of-range position is
     * ignored, a negative one counts as 0.
     *
     * @param request the arguments; {@link ForwardRequest.Builder#startPositions(int[])} and
     *                {@link ForwardRequest.Builder#endPositions(int[])} are the labels
     * @return start and end logits [batch, seq], the loss with positions, and what the options ask for
     */
    public QuestionAnsweringOutput forward(ForwardRequest request) {
        int[] startPositions = request.startPositionsOrNull();
        int[] endPositions = request.endPositionsOrNull();
        if ((startPositions == null) != (endPositions == null)) {
            throw new IllegalArgumentException("give both startPositions and endPositions, or neither");
        }
        ModelCall call = ModelCall.of(this, request);
        request.checkLabels("OPTForQuestionAnswering", false, false, true);
        if (startPositions != null && (startPositions.length != call.batch() || endPositions.length != call.batch())) {
            throw new IllegalArgumentException("startPositions and endPositions must have " + call.batch()
                    + " entries (one per row), have " + startPositions.length + " and " + endPositions.length);
        }
        Session.Result r = call.run(true, null);
        try {
            int batch = call.batch();
            int seq = call.seqLen();
            MemorySegment both = r.head().segment();  // [batch, seq, 2]
            MemorySegment start = ModelCall.allocate(r, (long) batch * seq);
            MemorySegment end = ModelCall.allocate(r, (long) batch * seq);
            for (long i = 0; i < (long) batch * seq; i++) {
                start.setAtIndex(ValueLayout.JAVA_FLOAT, i, both.getAtIndex(ValueLayout.JAVA_FLOAT, 2 * i));
                end.setAtIndex(ValueLayout.JAVA_FLOAT, i, both.getAtIndex(ValueLayout.JAVA_FLOAT, 2 * i + 1));
            }
            FloatTensor s = call.view(r, start, "start_logits", batch, seq);
            FloatTensor e = call.view(r, end, "end_logits", batch, seq);
            OptionalDouble loss = startPositions == null ? OptionalDouble.empty()
                    : OptionalDouble.of((Losses.spanCrossEntropy(s, startPositions) + Losses.spanCrossEntropy(e, endPositions)) / 2);
            return new QuestionAnsweringOutput(loss, s, e, call.hidden(r), call.attentions(r));
        } catch (RuntimeException | Error ex) {
            r.owner().release();
            throw ex;
        }
    }

    /**
     * {@link #answer(OptTokenizer, String, String, QuestionAnsweringOptions)} with the pipeline's defaults.
     *
     * @param tokenizer the model's tokenizer
     * @param question  the question
     * @param context   the text to take the answer from
     * @return the answer span, its character offsets in the context and its score
     */
    public Answer answer(OptTokenizer tokenizer, String question, String context) {
        return answer(tokenizer, question, context, QuestionAnsweringOptions.defaults());
    }

    /**
     * {@link #answer(OptTokenizer, String, String, QuestionAnsweringOptions)} with the pipeline's
     * defaults but the longest answer.
     *
     * @param tokenizer       the model's tokenizer
     * @param question        the question
     * @param context         the text to take the answer from
     * @param maxAnswerTokens the longest answer in tokens (HF's max_answer_len)
     * @return the answer span, its character offsets in the context and its score
     */
    public Answer answer(OptTokenizer tokenizer, String question, String context, int maxAnswerTokens) {
        java.util.Objects.requireNonNull(tokenizer, "tokenizer");
        java.util.Objects.requireNonNull(question, "question");
        java.util.Objects.requireNonNull(context, "context");
        return answer(tokenizer, question, context, QuestionAnsweringOptions.builder().maxAnswerLen(maxAnswerTokens).build());
    }

    /**
     * transformers' extractive question-answering pipeline. The question (its first
     * {@code maxQuestionLen} tokens) and the context are encoded as windows
     * {@code </s> question </s> context-part} of at most {@code maxSeqLen} tokens, the context split
     * as HF tokenizers split it with {@code truncation="only_second"} and {@code stride=doc_stride}
     * (see {@link OptTokenizer#encodePairWindows}); a context that fits is one window. Every window is
     * run through the model (a few per batch, right-padded), and the best span of context tokens over
     * all windows is returned (see {@link QuestionAnsweringOptions.SpanScore}; spans start and end on
     * context tokens, never on the question, the BOS tokens or padding, and have at most
     * {@code maxAnswerLen} tokens), with its character offsets into the whole context. The whitespace
     * a byte-level token carries before its word is not part of the answer, as in HF's pipeline.
     *
     * @param tokenizer the model's tokenizer (its ids must lie within the model's vocab_size)
     * @param question  the question
     * @param context   the text to take the answer from, of any length
     * @param options   window length, stride, question and answer lengths, span score
     * @return the answer span, its character offsets in the context and its score
     * @throws IllegalArgumentException if the context is empty, {@code maxSeqLen} exceeds the model's
     *     {@code max_position_embeddings}, the question leaves no room for context in a window, or the
     *     stride is not less than the context tokens of a window (when several are needed)
     */
    public Answer answer(OptTokenizer tokenizer, String question, String context, QuestionAnsweringOptions options) {
        java.util.Objects.requireNonNull(question, "question");
        java.util.Objects.requireNonNull(context, "context");
        java.util.Objects.requireNonNull(options, "options");
        checkTokenizer(tokenizer);
        if (context.isEmpty()) {
            throw new IllegalArgumentException("question and a non-empty context are required");
        }
        int positions = model.config().maxPositionEmbeddings();
        int maxSeqLen = options.maxSeqLen().orElse(Math.min(DEFAULT_MAX_SEQ_LEN, positions));
        if (maxSeqLen > positions) {
            throw new IllegalArgumentException("maxSeqLen " + maxSeqLen + " is more than the model's " + positions
                    + " positions (max_position_embeddings)");
        }
        int stride = options.docStride().orElse(Math.min(maxSeqLen / 2, 128));
        Encoding q = tokenizer.encodeWithOffsets(question, false);
        if (q.length() > options.maxQuestionLen()) {
            int n = options.maxQuestionLen();
            q = new Encoding(Arrays.copyOf(q.ids(), n), Arrays.copyOf(q.tokens(), n), Arrays.copyOf(q.startOffsets(), n),
                    Arrays.copyOf(q.endOffsets(), n));
        }
        List<PairEncoding> windows;
        try {
            windows = tokenizer.encodePairWindows(q, tokenizer.encodeWithOffsets(context, false),
                    EncodeOptions.builder().truncation(EncodeOptions.Truncation.ONLY_SECOND).maxLength(maxSeqLen)
                            .stride(stride).build());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the question (" + q.length() + " tokens) and context do not fit windows of"
                    + " maxSeqLen " + maxSeqLen + " with docStride " + stride + ": " + e.getMessage(), e);
        }
        SpanSearch best = new SpanSearch(options.maxAnswerLen(), options.spanScore());
        for (int from = 0; from < windows.size(); from += WINDOWS_PER_FORWARD) {
            List<PairEncoding> group = windows.subList(from, Math.min(windows.size(), from + WINDOWS_PER_FORWARD));
            int width = group.stream().mapToInt(PairEncoding::length).max().orElseThrow();
            int[][] ids = new int[group.size()][width];
            int[][] mask = new int[group.size()][width];
            for (int r = 0; r < group.size(); r++) {
                int[] w = group.get(r).ids();
                Arrays.fill(ids[r], Math.max(0, tokenizer.padTokenId()));
                System.arraycopy(w, 0, ids[r], 0, w.length);
                Arrays.fill(mask[r], 0, w.length, 1);
            }
            try (QuestionAnsweringOutput o = forward(ids, mask)) {
                for (int r = 0; r < group.size(); r++) {
                    int[] seq = group.get(r).sequenceIds();
                    boolean[] isContext = new boolean[seq.length];
                    for (int i = 0; i < seq.length; i++) {
                        isContext[i] = seq[i] == 1;
                    }
                    best.offer(from + r, o.startLogits().row(r), o.endLogits().row(r), isContext);
                }
            }
        }
        PairEncoding w = windows.get(best.window());
        int start = w.startOffsets()[best.start()];
        int end = w.endOffsets()[best.end()];
        // A byte-level token carries the space before its word ("Ġfirst"): the answer, like HF's
        // pipeline's, is the span without surrounding whitespace (unless that is all it holds).
        int a = start;
        int z = end;
        while (a < z && isSpace(context.charAt(a))) {
            a++;
        }
        while (z > a && isSpace(context.charAt(z - 1))) {
            z--;
        }
        if (a < z) {
            start = a;
            end = z;
        }
        return new Answer(context.substring(start, end), start, end, best.score());
    }

    private static boolean isSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c);
    }
}
