package dev.panopt;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Hugging Face's {@code OPTModel}: the bare decoder, whose output is the last hidden state. Loads
 * the decoder weights of any OPT checkpoint (base, causal-LM or task). Ownership and
 * thread-safety: see {@link OptPreTrainedModel}.
 */
public final class OptModel extends OptPreTrainedModel {
    private OptModel(NativeModel model, SessionOptions defaults) {
        super(model, defaults);
    }

    public static OptModel fromPretrained(Path directory) throws IOException {
        return fromPretrained(directory, LoadOptions.DEFAULT);
    }

    public static OptModel fromPretrained(Path directory, LoadOptions options) throws IOException {
        return new OptModel(load(directory, options, (ckpt, c, o) -> NativeModel.Head.NONE), options.sessionOptions());
    }

    /** Forward on the internal session (no cache): ids [batch, seq], mask [batch, seq] or null. */
    public BaseModelOutput forward(int[][] inputIds, int[][] attentionMask, ForwardOptions options) {
        noCache(options);
        return forward(defaultSession(), inputIds, attentionMask, options);
    }

    /** HF's {@code OPTModel.forward} with {@code input_ids}; see {@link OptForCausalLM} for the arguments. */
    public BaseModelOutput forward(Session session, int[][] inputIds, int[][] attentionMask, ForwardOptions options) {
        return finish(ModelCall.of(model, session, inputIds, attentionMask, options));
    }

    /** HF's {@code OPTModel.forward} with {@code inputs_embeds} [batch][seq][word_embed_proj_dim]. */
    public BaseModelOutput forwardEmbeds(Session session, float[][][] inputsEmbeds, int[][] attentionMask,
                                         ForwardOptions options) {
        return finish(ModelCall.ofEmbeds(model, session, inputsEmbeds, attentionMask, options));
    }

    /** As {@link #forwardEmbeds(Session, float[][][], int[][], ForwardOptions)} on the internal session. */
    public BaseModelOutput forwardEmbeds(float[][][] inputsEmbeds, int[][] attentionMask, ForwardOptions options) {
        noCache(options);
        return forwardEmbeds(defaultSession(), inputsEmbeds, attentionMask, options);
    }

    private static BaseModelOutput finish(ModelCall call) {
        Session.Result r = call.run(false, null);
        List<FloatTensor> hs = call.hidden(r);
        FloatTensor last = hs.get(hs.size() - 1);
        List<FloatTensor> all = call.options().outputHiddenStates() ? hs : List.of();
        return new BaseModelOutput(call.view(r, last, "last_hidden_state"), all, call.attentions(r), r.pastLength());
    }
}
