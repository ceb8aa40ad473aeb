package dev.panopt.conformance;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Text and JSON renderings of checker results. */
final class Reports {
    private Reports() {}

    static void text(List<CaseResult> results, PrintStream out) {
        for (CaseResult r : results) {
            out.printf(Locale.ROOT, "%s %s%s%n", r.status(), r.name(), r.reason() == null ? "" : " (" + r.reason() + ")");
            for (Compare.TensorResult t : r.tensors()) {
                out.printf(Locale.ROOT, "  %-4s %-10s %-22s %-18s max_abs %.3e  rel_l2 %.3e  [%s]%s%n",
                        t.pass() ? "PASS" : "FAIL", t.call(), t.name(), t.shapeText(), t.maxAbs(), t.relL2(),
                        t.tolerance(), t.pass() ? "" : "  " + t.failures() + " over tolerance, first " + t.firstFailure());
            }
            for (DistributionCompare.Result d : r.distributions()) {
                out.println("  " + d.text());
            }
            for (String s : r.skippedTensors()) {
                out.println("  SKIPPED " + s);
            }
            for (String n : r.notes()) {
                out.println("  note: " + n);
            }
        }
        CaseResult.Summary sum = CaseResult.Summary.of(results);
        out.printf(Locale.ROOT, "%d passed, %d failed, %d skipped%n", sum.passed(), sum.failed(), sum.skipped());
    }

    /** @param outputs the other implementation's outputs directory, or null for Panopt's own run */
    static String json(Path dir, Path outputs, List<CaseResult> results) {
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = om.createObjectNode();
        root.put("fixtures", dir.toAbsolutePath().toString());
        if (outputs != null) {
            root.put("outputs", outputs.toAbsolutePath().toString());
        }
        ArrayNode cases = root.putArray("cases");
        for (CaseResult r : results) {
            ObjectNode c = cases.addObject();
            c.put("name", r.name());
            c.put("status", r.status().name());
            if (r.reason() != null) {
                c.put("reason", r.reason());
            }
            ArrayNode ts = c.putArray("tensors");
            for (Compare.TensorResult t : r.tensors()) {
                ObjectNode o = ts.addObject();
                o.put("call", t.call());
                o.put("name", t.name());
                ArrayNode shape = o.putArray("shape");
                for (long d : t.shape()) {
                    shape.add(d);
                }
                o.put("max_abs_err", t.maxAbs());
                o.put("rel_l2_err", t.relL2());
                o.put("tolerance", t.tolerance().toString());
                o.put("status", t.pass() ? "PASS" : "FAIL");
                if (!t.pass()) {
                    o.put("failures", t.failures());
                    o.put("first_failure", t.firstFailure());
                }
            }
            ArrayNode ds = c.putArray("distributions");
            for (DistributionCompare.Result d : r.distributions()) {
                ObjectNode o = ds.addObject();
                o.put("call", d.call());
                o.put("name", d.name());
                ArrayNode shape = o.putArray("shape");
                for (long x : d.shape()) {
                    shape.add(x);
                }
                o.put("positions", d.positions());
                o.put("kl_mean", d.klMean());
                o.put("kl_mean_bound", d.klMeanBound());
                o.put("kl_max", d.klMax());
                o.put("kl_max_bound", d.klMaxBound());
                o.put("top1_agree", d.top1());
                o.put("decisive", d.decisive());
                o.put("decisive_top1_agree", d.decisiveTop1());
                o.put("rel_logit_err", d.relErr());
                o.put("rel_logit_err_bound", d.relErrBound());
                o.put("headroom", d.headroom());
                o.put("rel_rms_err", d.rho());
                o.put("rel_rms_err_predicted", d.rhoPredicted());
                o.put("status", d.pass() ? "PASS" : "FAIL");
                if (!d.pass()) {
                    o.put("failures", d.failures());
                    o.put("first_failure", d.firstFailure());
                }
            }
            ArrayNode sk = c.putArray("skipped");
            r.skippedTensors().forEach(sk::add);
            ArrayNode notes = c.putArray("notes");
            r.notes().forEach(notes::add);
        }
        long failed = results.stream().filter(r -> r.status() == CaseResult.Status.FAIL).count();
        root.put("failed_cases", failed);
        CaseResult.Summary sum = CaseResult.Summary.of(results);
        ObjectNode summary = root.putObject("summary");
        summary.put("passed", sum.passed());
        summary.put("failed", sum.failed());
        summary.put("skipped", sum.skipped());
        try {
            return om.writeValueAsString(root);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
