package dev.panopt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.tokenizer.OptTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * Bounded soak: load / generate / close cycles on the bundled checkpoints, with long generations and
 * some outputs left unclosed, reporting RSS and Panopt's native counters at intervals and asserting
 * that they stay flat. The default run lasts about {@value #SHORT_SECONDS} s; {@code -Dpanopt.soak.seconds=N}
 * (see README, Robustness) runs it for N seconds with longer generations.
 *
 * <p>Asserted, after {@link #WARM_UP_CYCLES} warm-up cycles (JIT, heap sizing, the tokenizer's caches)
 * and measured between cycles (every model closed): the floor of the C heap in use (glibc's
 * {@code mallinfo2}: every native allocation of libpanopt, of the outputs' arenas and of the JVM, whose
 * compilers add passing peaks) over the last quarter of the samples is within {@link #MALLOC_SLACK}
 * bytes of its floor over the first quarter, so a leak of even a few kilobytes per cycle shows; RSS never exceeds its post-warm-up level by more than
 * the Java heap's committed size plus {@link #RSS_SLACK} (the JVM touches its committed heap page by
 * page as it cycles through it, so RSS alone rises for a while without any leak);
 * no model, session or output is left open after a cycle; the native bytes of unclosed outputs stay
 * below three collection thresholds.
 */
class SoakTest {
    static final int SHORT_SECONDS = 6;
    static final long RSS_SLACK = 32L << 20;
    static final long MALLOC_SLACK = 8L << 20;
    static final int WARM_UP_CYCLES = 6;
    static final Path FIXTURES = NativeMemoryTest.FIXTURES;

    record Sample(double seconds, int cycles, long tokens, long rss, long heap, long malloc, long unclosed,
                  long models, long sessions, long outputs) {
        String row() {
            return String.format(Locale.ROOT, "[soak] %7.1f s  cycles %5d  tokens %7d  RSS %7.1f MB  (Java heap %6.1f MB"
                    + " committed)  C heap in use %6.1f MB  unclosed %5.1f MB  models %d  sessions %d  outputs %d",
                    seconds, cycles, tokens, rss / 1e6, heap / 1e6, malloc / 1e6, unclosed / 1e6, models, sessions,
                    outputs);
        }
    }

    @Test
    void loadGenerateCloseCyclesStayFlat() throws Exception {
        long seconds = Long.getLong("panopt.soak.seconds", 0);
        boolean longRun = seconds > 0;
        long budgetNanos = (longRun ? seconds : SHORT_SECONDS) * 1_000_000_000L;
        long reportEveryNanos = longRun ? 30_000_000_000L : 2_000_000_000L;
        int longTokens = longRun ? 1500 : 200;
        OptTokenizer tok = OptTokenizer.fromPretrained(FIXTURES.resolve("tokenizer"));
        Path tiny = FIXTURES.resolve("cases/preln-tiny");
        Path big = FIXTURES.resolve("cases/opt125m-shape-f16");
        long models0 = NativeMemory.liveModels();
        long sessions0 = NativeMemory.liveSessions();
        long outputs0 = NativeMemory.liveOutputs();

        List<Sample> samples = new ArrayList<>();
        long start = System.nanoTime();
        long nextReport = start;
        int cycles = 0;
        long tokens = 0;
        long base = 0;
        long mallocBase = 0;
        while (System.nanoTime() - start < budgetNanos || cycles < WARM_UP_CYCLES + 4) {
            if (cycles == WARM_UP_CYCLES) {
                base = NativeMemoryTest.rss(); // and the budget starts now
                mallocBase = NativeMemoryTest.mallocInUse();
                start = System.nanoTime();
                samples.clear();
            }
            boolean useBig = cycles % 2 == 1;
            try (OptForCausalLM lm = OptForCausalLM.fromPretrained(useBig ? big : tiny)) {
                if (useBig) {
                    GenerationConfig cfg = GenerationConfig.builder().maxNewTokens(cycles % 4 == 3 ? longTokens : 24)
                            .eosTokenIds().build();
                    List<String> prompts = cycles % 4 == 3 ? List.of("Once upon a time")
                            : List.of("Hello, my dog is", "The weather today");
                    GenerationResult r = lm.generate(tok, prompts, cfg);
                    for (int i = 0; i < prompts.size(); i++) {
                        tokens += r.tokens(i).length;
                    }
                } else {
                    int[][] prompt = {{2, 31, 415, 9, 10, 58, 7, 300}, {1, 1, 2, 44, 87, 12, 5, 90}};
                    int[][] mask = {{1, 1, 1, 1, 1, 1, 1, 1}, {0, 0, 1, 1, 1, 1, 1, 1}};
                    GenerationConfig cfg = GenerationConfig.builder().maxNewTokens(48).doSample(true).seed(cycles)
                            .eosTokenIds().build();
                    GenerationResult r = lm.generate(prompt, mask, cfg);
                    tokens += r.tokens(0).length + r.tokens(1).length;
                }
                for (int i = 0; i < 10; i++) {
                    lm.forward(new int[][] {{2, 100 + i, 200, 300}}).logits(); // left unclosed on purpose
                }
            }
            cycles++;
            assertEquals(models0, NativeMemory.liveModels(), "a model was left open");
            assertEquals(sessions0, NativeMemory.liveSessions(), "a session was left open");
            assertTrue(NativeMemory.liveOutputs() <= outputs0, "outputs outlived their model");
            long now = System.nanoTime();
            samples.add(new Sample((now - start) / 1e9, cycles, tokens, NativeMemoryTest.rss(),
                    Runtime.getRuntime().totalMemory(), NativeMemoryTest.mallocInUse(), NativeMemory.unclosedBytes(), NativeMemory.liveModels() - models0,
                    NativeMemory.liveSessions() - sessions0, NativeMemory.liveOutputs() - outputs0));
            if (now >= nextReport) {
                System.out.println(samples.getLast().row());
                nextReport = now + reportEveryNanos;
            }
        }
        Sample last = samples.getLast();
        System.out.println(last.row());
        long peak = samples.stream().mapToLong(Sample::rss).max().orElse(base);
        long mallocPeak = samples.stream().mapToLong(Sample::malloc).max().orElse(mallocBase);
        long heap = samples.stream().mapToLong(Sample::heap).max().orElse(0);
        long unclosedPeak = samples.stream().mapToLong(Sample::unclosed).max().orElse(0);
        System.out.printf(Locale.ROOT, "[soak] %d cycles (%d after warm-up), %d tokens in %.0f s: after warm-up RSS"
                + " %.1f MB -> peak %.1f MB (%+.1f MB; Java heap committed %.1f MB), C heap in use %.1f MB -> peak"
                + " %.1f MB (%+.1f MB), unclosed native bytes peak %.1f MB%n", last.cycles(), samples.size(),
                last.tokens(), last.seconds(), base / 1e6, peak / 1e6, (peak - base) / 1e6, heap / 1e6,
                mallocBase / 1e6, mallocPeak / 1e6, (mallocPeak - mallocBase) / 1e6, unclosedPeak / 1e6);
        int q = Math.max(1, samples.size() / 4);
        long firstFloor = samples.subList(0, q).stream().mapToLong(Sample::malloc).min().orElseThrow();
        long lastFloor = samples.subList(samples.size() - q, samples.size()).stream().mapToLong(Sample::malloc).min()
                .orElseThrow();
        System.out.printf(Locale.ROOT, "[soak] C heap floor: first quarter %.1f MB, last quarter %.1f MB (%+.1f MB)%n",
                firstFloor / 1e6, lastFloor / 1e6, (lastFloor - firstFloor) / 1e6);
        if (mallocBase >= 0) {
            assertTrue(lastFloor - firstFloor <= MALLOC_SLACK, "C heap floor rose by " + (lastFloor - firstFloor) / 1e6
                    + " MB after warm-up");
        }
        assertTrue(peak - base <= heap + RSS_SLACK, "RSS grew by " + (peak - base) / 1e6 + " MB after warm-up");
        assertTrue(unclosedPeak <= 3 * NativeMemory.threshold(), "unclosed native bytes peaked at " + unclosedPeak);
    }
}
