package dev.panopt.conformance;

import java.util.List;

/**
 * What happened to one fixture case: element-wise comparisons ({@code tensors}), and with quantized
 * weights the logits' comparisons against the derived bounds ({@code distributions}) plus notes (the
 * weights' formats, fallbacks and predicted error).
 */
record CaseResult(String name, Status status, String reason, List<Compare.TensorResult> tensors,
                  List<String> skippedTensors, List<DistributionCompare.Result> distributions, List<String> notes) {
    enum Status { PASS, FAIL, SKIPPED }

    static CaseResult skipped(String name, String reason) {
        return new CaseResult(name, Status.SKIPPED, reason, List.of(), List.of(), List.of(), List.of());
    }

    static CaseResult of(String name, List<Compare.TensorResult> tensors, List<String> skippedTensors,
                         String error) {
        return of(name, tensors, skippedTensors, List.of(), List.of(), error);
    }

    static CaseResult of(String name, List<Compare.TensorResult> tensors, List<String> skippedTensors,
                         List<DistributionCompare.Result> distributions, List<String> notes, String error) {
        boolean fail = error != null || tensors.stream().anyMatch(t -> !t.pass())
                || distributions.stream().anyMatch(d -> !d.pass());
        Status s = fail ? Status.FAIL : tensors.isEmpty() && distributions.isEmpty() ? Status.SKIPPED : Status.PASS;
        String reason = error != null ? error
                : s == Status.SKIPPED ? "no output of this case is supported by this build" : null;
        return new CaseResult(name, s, reason, List.copyOf(tensors), List.copyOf(skippedTensors),
                List.copyOf(distributions), List.copyOf(notes));
    }

    /**
     * The counts a report ends with, and what the exit status follows: every compared tensor (and
     * every distribution comparison) passes or fails; a case that failed without a failing tensor (an error before or between the
     * comparisons) counts as one failure; every skipped output, and every case skipped as a whole,
     * counts as one skip.
     */
    record Summary(int passed, int failed, int skipped) {
        static Summary of(List<CaseResult> results) {
            int pass = 0;
            int fail = 0;
            int skip = 0;
            for (CaseResult r : results) {
                int failedTensors = 0;
                for (Compare.TensorResult t : r.tensors()) {
                    if (t.pass()) {
                        pass++;
                    } else {
                        failedTensors++;
                    }
                }
                for (DistributionCompare.Result d : r.distributions()) {
                    if (d.pass()) {
                        pass++;
                    } else {
                        failedTensors++;
                    }
                }
                fail += failedTensors;
                if (r.status() == Status.FAIL && failedTensors == 0) {
                    fail++;
                }
                skip += r.skippedTensors().size();
                if (r.status() == Status.SKIPPED && r.tensors().isEmpty() && r.distributions().isEmpty()) {
                    skip++;
                }
            }
            return new Summary(pass, fail, skip);
        }

        /** The checker's exit status: 1 when anything failed, else 0. */
        int exitStatus() {
            return failed > 0 ? 1 : 0;
        }
    }
}
