package dev.panopt;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * How a model's weights were stored when it was loaded ({@link OptPreTrainedModel#loadReport()}):
 * per weight its stored type, the type it was converted to, and whether and why it fell back from
 * the format its {@link Quantization} asked for. A tied LM head is listed once, as
 * {@code decoder.embed_tokens.weight} of class {@link Quantization.TensorClass#LM_HEAD}.
 *
 * <p>Immutable and thread-safe.
 *
 * @param quantization the policy's {@linkplain Quantization#name() name}
 * @param tensors      every weight the model uses, in loading order
 * @param repacked     the names of the weights the native model holds its own copy of, in a layout its
 *                     kernels read faster (the CPU's block formats in 8-row groups; see {@link
 *                     LoadOptions.Builder#repack}); their source was released while loading
 */
public record LoadReport(String quantization, List<TensorFormat> tensors, Set<String> repacked) {
    /**
     * One weight.
     *
     * @param name        its canonical Hugging Face name (without {@code model.})
     * @param shape       its shape
     * @param tensorClass its class; empty for vectors (biases, LayerNorm), which keep their type
     * @param source      the type the checkpoint stores it in
     * @param requested   the type the policy asked for ({@code source} when it keeps it)
     * @param stored      the type the model holds it in: {@code requested}, or its {@linkplain
     *                    Quantization#fallback fallback}
     */
    public record TensorFormat(String name, List<Long> shape, Optional<Quantization.TensorClass> tensorClass,
                               DType source, DType requested, DType stored) {
        /** Copies the shape; checks that every component is present. */
        public TensorFormat {
            Objects.requireNonNull(name, "name");
            shape = List.copyOf(shape);
            Objects.requireNonNull(tensorClass, "tensorClass");
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(requested, "requested");
            Objects.requireNonNull(stored, "stored");
        }

        /** {@return the number of elements} */
        public long numel() {
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        }

        /** {@return the row length (last dimension)} */
        public long cols() {
            return shape.isEmpty() ? 1 : shape.get(shape.size() - 1);
        }

        /** {@return the bytes of the tensor in the checkpoint} */
        public long sourceBytes() {
            return source.bytes(numel());
        }

        /** {@return the bytes the model holds it in} */
        public long storedBytes() {
            return Math.multiplyExact(numel() / cols(), stored.bytes(cols()));
        }

        /** {@return whether the model holds a converted copy (instead of the checkpoint's mapped bytes)} */
        public boolean converted() {
            return stored != source;
        }

        /** {@return whether the tensor fell back from the requested format} */
        public boolean fellBack() {
            return stored != requested;
        }

        /** {@return why it fell back, e.g. "row length 64 is not a multiple of Q4_K's 256-element blocks: Q5_0"; empty if it did not} */
        public String fallbackReason() {
            if (!fellBack()) {
                return "";
            }
            return "row length " + cols() + " is not a multiple of " + requested + "'s " + requested.blockSize()
                    + "-element blocks: " + stored;
        }
    }

    /** Copies the collections; checks that every component is present. */
    public LoadReport {
        Objects.requireNonNull(quantization, "quantization");
        tensors = List.copyOf(tensors);
        repacked = Set.copyOf(repacked);
    }

    /**
     * A report of weights none of which was repacked.
     *
     * @param quantization the policy's {@linkplain Quantization#name() name}
     * @param tensors      every weight the model uses, in loading order
     */
    public LoadReport(String quantization, List<TensorFormat> tensors) {
        this(quantization, tensors, Set.of());
    }

    /** {@return this report with {@code names} as the repacked weights} */
    LoadReport withRepacked(Set<String> names) {
        return new LoadReport(quantization, tensors, names);
    }

    /** {@return the bytes of the weights the native model holds in its own repacked copy} */
    public long repackedBytes() {
        return tensors.stream().filter(t -> repacked.contains(t.name())).mapToLong(TensorFormat::storedBytes).sum();
    }

    /** {@return the bytes of the weights in the checkpoint (each once)} */
    public long sourceBytes() {
        return tensors.stream().mapToLong(TensorFormat::sourceBytes).sum();
    }

    /** {@return the bytes of the weights as the model holds them (each once): the model's weight memory} */
    public long storedBytes() {
        return tensors.stream().mapToLong(TensorFormat::storedBytes).sum();
    }

    /** {@return the bytes of the converted copies in native memory (the rest stays memory-mapped)} */
    public long convertedBytes() {
        return tensors.stream().filter(TensorFormat::converted).mapToLong(TensorFormat::storedBytes).sum();
    }

    /** {@return the weights that fell back from the requested format} */
    public List<TensorFormat> fallbacks() {
        return tensors.stream().filter(TensorFormat::fellBack).toList();
    }

    /** {@return parameters per stored type, in {@link DType} order} */
    public Map<DType, Long> parametersByType() {
        Map<DType, Long> out = new TreeMap<>();
        for (TensorFormat t : tensors) {
            out.merge(t.stored(), t.numel(), Long::sum);
        }
        return out;
    }

    /**
     * {@return one line: the policy, sizes in decimal MB, tensors per stored type and the fallbacks, e.g.
     * {@code Q4_K_M: 250.3 MB -> 81.2 MB; Q4_K 60 tensors, Q6_K 13, F32 124; no fallback}}
     */
    public String summary() {
        Map<DType, Integer> count = new TreeMap<>();
        tensors.forEach(t -> count.merge(t.stored(), 1, Integer::sum));
        List<String> parts = new ArrayList<>();
        count.forEach((d, n) -> parts.add(d + " " + n));
        List<String> fb = fallbacks().stream().map(t -> t.name() + " (" + t.requested() + " -> " + t.stored() + ")")
                .toList();
        return String.format(Locale.ROOT, "%s: %.1f MB -> %.1f MB; tensors per type: %s; %s%s", quantization,
                sourceBytes() / 1e6, storedBytes() / 1e6, String.join(", ", parts),
                fb.isEmpty() ? "no fallback" : fb.size() + " fell back: " + String.join(", ", fb),
                repacked.isEmpty() ? "" : String.format(Locale.ROOT, "; %d repacked (%.1f MB)", repacked.size(),
                        repackedBytes() / 1e6));
    }

    /** {@return a table with one line per weight: name, shape, class, source and stored type, size, fallback reason} */
    public String table() {
        StringBuilder sb = new StringBuilder();
        for (TensorFormat t : tensors) {
            sb.append(String.format(Locale.ROOT, "%-48s %-14s %-15s %-5s -> %-5s %10.3f MB%s%n", t.name(),
                    t.shape().toString().replace(" ", ""), t.tensorClass().map(Enum::name).orElse("vector"),
                    t.source(), t.stored(), t.storedBytes() / 1e6,
                    t.fellBack() ? "  (fallback: " + t.fallbackReason() + ")" : ""));
        }
        return sb.toString();
    }
}
