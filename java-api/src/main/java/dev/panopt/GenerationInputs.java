package dev.panopt;

import dev.panopt.tokenizer.OptTokenizer;
import java.util.Arrays;
import java.util.Set;

/**
 * A generate call's validated request, shared by the decoders: left-padded prompts and mask, each
 * row's real prompt tokens, the EOS and stop ids, the pad id and the logits pipeline. Immutable.
 */
final class GenerationInputs {
    final OptForCausalLM lm;
    final GenerationConfig cfg;
    final OptTokenizer tokenizer; // null: ids only
    final int batch;
    final int promptLen;
    final int[][] prompt;
    final int[][] mask;
    final int[][] realTokens; // per prompt, its tokens without the padding
    final int pad;
    final Set<Integer> eos;
    final int vocab;
    final LogitsPipeline pipeline;

    GenerationInputs(OptForCausalLM lm, int[][] inputIds, int[][] attentionMask, GenerationConfig cfg,
                     OptTokenizer tokenizer) {
        this.lm = lm;
        this.cfg = cfg;
        this.tokenizer = tokenizer;
        OptConfig c = lm.config();
        Inputs.flatten("input_ids", inputIds);
        this.batch = inputIds.length;
        this.promptLen = inputIds[0].length;
        this.vocab = c.vocabSize();
        Inputs.checkTokenIds(inputIds, vocab);
        this.prompt = inputIds;
        this.mask = attentionMask == null ? ones(batch, promptLen) : copy(attentionMask);
        Inputs.mask(this.mask, batch);
        for (int b = 0; b < batch; b++) {
            if (mask[b].length != promptLen) {
                throw new IllegalArgumentException("attention_mask[" + b + "] must have " + promptLen + " entries");
            }
            if (mask[b][promptLen - 1] != 1) {
                throw new IllegalArgumentException("row " + b + " ends with padding: generation needs left padding "
                        + "(EncodeOptions.paddingSide(LEFT))");
            }
        }
        if (!cfg.stopStrings().isEmpty() && tokenizer == null) {
            throw new IllegalArgumentException("stop strings need a tokenizer: use generate(tokenizer, prompts, config)");
        }
        int total = promptLen + cfg.maxNewTokens();
        if (total > c.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("prompt of " + promptLen + " + max_new_tokens " + cfg.maxNewTokens()
                    + " exceeds max_position_embeddings " + c.maxPositionEmbeddings());
        }
        this.pad = c.padTokenId().orElse(c.eosTokenId().orElse(0));
        Set<Integer> e = cfg.eosTokenIdsOrNull();
        this.eos = e != null ? e : c.eosTokenId().isPresent() ? Set.of(c.eosTokenId().getAsInt()) : Set.of();
        this.realTokens = new int[batch][];
        for (int b = 0; b < batch; b++) {
            int[] r = new int[promptLen];
            int n = 0;
            for (int t = 0; t < promptLen; t++) {
                if (mask[b][t] == 1) {
                    r[n++] = inputIds[b][t];
                }
            }
            realTokens[b] = Arrays.copyOf(r, n);
        }
        this.pipeline = new LogitsPipeline(cfg, eos, vocab);
    }

    /** {@return the capacity per row: prompt plus max_new_tokens} */
    int totalLength() {
        return promptLen + cfg.maxNewTokens();
    }

    /** {@return why a row ends with this token: EOS, STOP_TOKEN, or null when it does not end a row} */
    FinishReason endOf(int token) {
        return eos.contains(token) ? FinishReason.EOS
                : cfg.stopTokenIds().contains(token) ? FinishReason.STOP_TOKEN : null;
    }

    /** {@return a decoder of one row's new tokens to text, or null without a tokenizer} */
    OptTokenizer.StreamDecoder newTextDecoder() {
        return tokenizer == null ? null : tokenizer.newStreamDecoder(true);
    }

    /** {@return the text a token adds to a row (ids outside the tokenizer decode to nothing)} */
    String push(OptTokenizer.StreamDecoder d, int token) {
        return d != null && tokenizer.idToToken(token).isPresent() ? d.push(token) : "";
    }

    /** The mask of prompt row b followed by {@code produced} ones. */
    int[] maskRow(int b, int produced) {
        int[] m = Arrays.copyOf(mask[b], promptLen + produced);
        Arrays.fill(m, promptLen, m.length, 1);
        return m;
    }

    private static int[][] ones(int rows, int cols) {
        int[][] m = new int[rows][cols];
        for (int[] r : m) {
            Arrays.fill(r, 1);
        }
        return m;
    }

    private static int[][] copy(int[][] m) {
        int[][] c = new int[m.length][];
        for (int i = 0; i < m.length; i++) {
            c[i] = m[i] == null ? null : m[i].clone();
        }
        return c;
    }
}
