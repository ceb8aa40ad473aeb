package dev.panopt;

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
}
