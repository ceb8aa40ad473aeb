package dev.panopt.conformance;

import java.util.List;

/** What happened to one fixture case. */
record CaseResult(String name, Status status, String reason, List<Compare.TensorResult> tensors,
                  List<String> skippedTensors) {
    enum Status { PASS, FAIL, SKIPPED }

    static CaseResult skipped(String name, String reason) {
        return new CaseResult(name, Status.SKIPPED, reason, List.of(), List.of());
    }

    static CaseResult of(String name, List<Compare.TensorResult> tensors, List<String> skippedTensors,
                         String error) {
        boolean fail = error != null || tensors.stream().anyMatch(t -> !t.pass());
        Status s = fail ? Status.FAIL : tensors.isEmpty() ? Status.SKIPPED : Status.PASS;
        String reason = error != null ? error
                : s == Status.SKIPPED ? "no output of this case is supported by this build" : null;
        return new CaseResult(name, s, reason, List.copyOf(tensors), List.copyOf(skippedTensors));
    }
}
