package dev.panopt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The loading progress: decimal MB as `panopt info` prints them; a bar only on a terminal. */
class ProgressBarTest {
    static String drive(boolean terminal) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ProgressBar p = new ProgressBar("loading x", new PrintStream(b, true, StandardCharsets.UTF_8), terminal);
        long total = 250_500_000L;
        for (long done = 0; done <= total; done += total / 200) {
            p.update(done, total);
        }
        p.update(total, total);
        return b.toString(StandardCharsets.UTF_8);
    }

    @Test
    void withoutATerminalThereIsNoBarOnlyOneLine() {
        String out = drive(false);
        assertFalse(out.contains("\r"), out);
        assertEquals(1, out.lines().count(), out);
        assertTrue(out.startsWith("loading x: 250.5 MB in "), out);
    }

    @Test
    void onATerminalTheBarCountsDecimalMegabytes() {
        String out = drive(true);
        assertTrue(out.contains("\r"), out);
        assertTrue(out.contains(" 100% 250.5/250.5 MB "), out);
        assertTrue(out.endsWith("\n") || out.endsWith(System.lineSeparator()), out);
    }
}
