package dev.panopt;

import dev.panopt.tokenizer.OptTokenizer;
import dev.panopt.tokenizer.PairEncoding;
import java.io.IOException;
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
            call.session().release(r.arena());
            throw ex;
        }
    }

    /**
     * {@link #answer(OptTokenizer, String, String, int)} with HF's default max_answer_len of 15 tokens.
     *
     * @param tokenizer the model's tokenizer
     * @param question  the question
     * @param context   the text to take the answer from
     * @return the answer span, its character offsets in the context and its score
     */
    public Answer answer(OptTokenizer tokenizer, String question, String context) {
        return answer(tokenizer, question, context, 15);
    }

    /**
     * HF's extractive question answering: encodes the pair as {@code </s> question </s> context},
     * and returns the context span (start token ≤ end token, at most {@code maxAnswerTokens}
     * tokens, context tokens only) that maximises p(start) · p(end), with its character offsets;
     * the whitespace a token carries before its word is not part of the answer (as in HF's pipeline).
     *
     * @param tokenizer       the model's tokenizer (its ids must lie within the model's vocab_size)
     * @param question        the question
     * @param context         the text to take the answer from
     * @param maxAnswerTokens the longest answer in tokens
     * @return the answer span, its character offsets in the context and its score
     */
    public Answer answer(OptTokenizer tokenizer, String question, String context, int maxAnswerTokens) {
        java.util.Objects.requireNonNull(question, "question");
        java.util.Objects.requireNonNull(context, "context");
        checkTokenizer(tokenizer);
        if (context.isEmpty()) {
            throw new IllegalArgumentException("question and a non-empty context are required");
        }
        if (maxAnswerTokens < 1) {
            throw new IllegalArgumentException("maxAnswerTokens must be >= 1, got " + maxAnswerTokens);
        }
        PairEncoding enc = tokenizer.encodePair(question, context);
        int[] ids = enc.ids();
        int[] seqIds = enc.sequenceIds();
        if (ids.length > model.config().maxPositionEmbeddings()) {
            throw new IllegalArgumentException("question + context are " + ids.length
                    + " tokens, more than max_position_embeddings " + model.config().maxPositionEmbeddings());
        }
        try (QuestionAnsweringOutput o = forward(new int[][] {ids}, null)) {
            double[] ps = contextSoftmax(o.startLogits().row(0), seqIds);
            double[] pe = contextSoftmax(o.endLogits().row(0), seqIds);
            int bs = -1;
            int be = -1;
            double best = -1;
            for (int s = 0; s < ids.length; s++) {
                if (seqIds[s] != 1) {
                    continue;
                }
                for (int e = s; e < Math.min(ids.length, s + maxAnswerTokens); e++) {
                    if (seqIds[e] != 1) {
                        continue;
                    }
                    double score = ps[s] * pe[e];
                    if (score > best) {
                        best = score;
                        bs = s;
                        be = e;
                    }
                }
            }
            int start = enc.startOffsets()[bs];
            int end = enc.endOffsets()[be];
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
            return new Answer(context.substring(start, end), start, end, best);
        }
    }

    private static boolean isSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c);
    }

    private static double[] contextSoftmax(float[] logits, int[] seqIds) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < logits.length; i++) {
            if (seqIds[i] == 1) {
                max = Math.max(max, logits[i]);
            }
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            if (seqIds[i] == 1) {
                p[i] = Math.exp(logits[i] - max);
                sum += p[i];
            }
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }
}
