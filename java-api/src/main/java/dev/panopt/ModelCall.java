package dev.panopt;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The checks and plumbing every model class shares for one forward: validates ids, mask, head
 * mask and session against the config, runs it, and names the resulting views.
 */
record ModelCall(NativeModel model, Session session, int batch, int seqLen, int[] ids, float[] embeds, int[] mask,
                 float[] headMask, ForwardOptions options) {

    /** The call a request describes, on its session or {@code owner}'s internal one. */
    static ModelCall of(OptPreTrainedModel owner, ForwardRequest request) {
        Objects.requireNonNull(request, "request");
        Session session = request.sessionOf(owner);
        return request.inputIdsOrNull() != null
                ? of(owner.model, session, request.inputIdsOrNull(), request.attentionMaskOrNull(), request.options())
                : ofEmbeds(owner.model, session, request.inputsEmbedsOrNull(), request.attentionMaskOrNull(),
                        request.options());
    }

    static ModelCall of(NativeModel model, Session session, int[][] inputIds, int[][] attentionMask,
                        ForwardOptions options) {
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(options, "options");
        checkSession(model, session);
        OptConfig c = model.config();
        int[] ids = Inputs.flatten("input_ids", inputIds);
        int batch = inputIds.length;
        int seq = inputIds[0].length;
        Inputs.checkTokenIds(inputIds, c.vocabSize());
        Inputs.checkLength(seq, c.maxPositionEmbeddings());
        int[] mask = attentionMask == null ? null : Inputs.mask(attentionMask, batch);
        return new ModelCall(model, session, batch, seq, ids, null, mask, Inputs.headMask(options, c), options);
    }

    static ModelCall ofEmbeds(NativeModel model, Session session, float[][][] inputsEmbeds, int[][] attentionMask,
                              ForwardOptions options) {
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(options, "options");
        checkSession(model, session);
        OptConfig c = model.config();
        float[] embeds = Inputs.flattenEmbeds(inputsEmbeds, c.wordEmbedProjDim());
        int batch = inputsEmbeds.length;
        int seq = inputsEmbeds[0].length;
        Inputs.checkLength(seq, c.maxPositionEmbeddings());
        int[] mask = attentionMask == null ? null : Inputs.mask(attentionMask, batch);
        return new ModelCall(model, session, batch, seq, null, embeds, mask, Inputs.headMask(options, c), options);
    }

    private static void checkSession(NativeModel model, Session session) {
        if (session.model() != model) {
            throw new IllegalArgumentException("the session belongs to another model");
        }
    }

    /** Runs the forward; the head is computed when {@code head} is true (at headPositions if given). */
    Session.Result run(boolean head, int[] headPositions) {
        return session.run(new Session.Request(batch, seqLen, ids, embeds, mask, headMask, options.useCache(),
                headPositions, head, options.outputHiddenStates(), !head, options.outputAttentions()));
    }

    /** Writable memory for a derived output, owned by the result (freed with it). */
    static java.lang.foreign.MemorySegment allocate(Session.Result r, long floats) {
        return r.arena().allocate(Math.multiplyExact(floats, Float.BYTES), 64);
    }

    /** A read-only view of derived memory from {@link #allocate}. */
    FloatTensor view(Session.Result r, java.lang.foreign.MemorySegment seg, String name, long... shape) {
        return new FloatTensor(name, seg, r.owner(), shape);
    }

    FloatTensor view(Session.Result r, FloatTensor t, String name) {
        return new FloatTensor(name, t.segment(), r.owner(), t.shape());
    }

    List<FloatTensor> hidden(Session.Result r) {
        return rename(r, r.hiddenStates());
    }

    List<FloatTensor> attentions(Session.Result r) {
        return rename(r, r.attentions());
    }

    private List<FloatTensor> rename(Session.Result r, List<FloatTensor> ts) {
        List<FloatTensor> out = new ArrayList<>(ts.size());
        for (FloatTensor t : ts) {
            out.add(view(r, t, t.name()));
        }
        return List.copyOf(out);
    }
}
