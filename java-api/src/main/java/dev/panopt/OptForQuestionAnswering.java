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

    public static OptForQuestionAnswering fromPretrained(Path directory) throws IOException {
        return fromPretrained(directory, LoadOptions.DEFAULT);
    }

    public static OptForQuestionAnswering fromPretrained(Path directory, LoadOptions options) throws IOException {
        NativeModel m = load(directory, options, (ckpt, c, o) -> taskHead(ckpt, c, o, "qa_outputs.weight",
                "qa_outputs.bias", 2, "OPTForQuestionAnswering"));
        return new OptForQuestionAnswering(m, options.sessionOptions());
    }

    /** Start/end logits on the internal session. */
    public QuestionAnsweringOutput forward(int[][] inputIds, int[][] attentionMask) {
        return forward(defaultSession(), inputIds, attentionMask, null, null, ForwardOptions.DEFAULT);
    }

    /**
     * HF's {@code OPTForQuestionAnswering.forward}. With {@code startPositions} and
     * {@code endPositions} ([batch] each, both or neither) the loss is (CE(start) + CE(end)) / 2,
     * positions clamped to [0, seq_len] and seq_len ignored, as HF does: an out-of-range position is
     * ignored, a negative one counts as 0.
     */
    public QuestionAnsweringOutput forward(Session session, int[][] inputIds, int[][] attentionMask,
                                           int[] startPositions, int[] endPositions, ForwardOptions options) {
        if ((startPositions == null) != (endPositions == null)) {
            throw new IllegalArgumentException("give both startPositions and endPositions, or neither");
        }
        ModelCall call = ModelCall.of(model, session, inputIds, attentionMask, options);
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

    /** {@link #answer(OptTokenizer, String, String, int)} with HF's default max_answer_len of 15 tokens. */
    public Answer answer(OptTokenizer tokenizer, String question, String context) {
        return answer(tokenizer, question, context, 15);
    }

    /**
     * HF's extractive question answering: encodes the pair as {@code </s> question </s> context},
     * and returns the context span (start token ≤ end token, at most {@code maxAnswerTokens}
     * tokens, context tokens only) that maximises p(start) · p(end), with its character offsets.
     */
    public Answer answer(OptTokenizer tokenizer, String question, String context, int maxAnswerTokens) {
        java.util.Objects.requireNonNull(tokenizer, "tokenizer");
        if (question == null || context == null || context.isEmpty()) {
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
            return new Answer(context.substring(start, end), start, end, best);
        }
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
