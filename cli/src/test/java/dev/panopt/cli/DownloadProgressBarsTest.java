package dev.panopt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.hub.RepoRef;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Download progress: one line per file of 10 MB or more when stderr is not a terminal; small files silent. */
class DownloadProgressBarsTest {
    @Test
    void largeFilesGetALineSmallOnesNothing() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DownloadProgressBars p = new DownloadProgressBars(new PrintStream(b, true, StandardCharsets.UTF_8), false);
        RepoRef ref = RepoRef.of("facebook/opt-125m");
        for (long done = 0; done <= 1_000_000; done += 250_000) {
            p.update(ref, "vocab.json", done, 1_000_000);
        }
        assertEquals("", b.toString(StandardCharsets.UTF_8));
        long total = 250_500_000L;
        for (long done = 50_000_000; done < total; done += 50_000_000) {
            p.update(ref, "model.safetensors", done, total);
        }
        p.update(ref, "model.safetensors", total, total);
        String out = b.toString(StandardCharsets.UTF_8);
        assertEquals(1, out.lines().count(), out);
        assertTrue(out.startsWith("downloading facebook/opt-125m/model.safetensors: 250.5 MB in "), out);
    }
}
