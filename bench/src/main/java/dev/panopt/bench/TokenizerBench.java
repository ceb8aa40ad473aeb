package dev.panopt.bench;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.panopt.tokenizer.OptTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Tokenizer throughput: Panopt's {@code OptTokenizer} (pure Java) against Hugging Face tokenizers (Rust,
 * through DJL's JNI binding {@code ai.djl.huggingface:tokenizers}, whose jar bundles the native library)
 * with the same OPT vocabulary (conformance/fixtures/tokenizer) on the same text: {@code english} is
 * the repository's English prose (Markdown and Javadoc) repeated to {@code megabytes}, {@code unicode}
 * a seeded mix of Latin with accents, Greek, Cyrillic, CJK, Arabic, Devanagari, emoji, digits and
 * punctuation. The text is encoded in ~2 KB paragraphs without special tokens; one op = all of it.
 * {@link Load} times loading the tokenizer itself.
 */
public final class TokenizerBench {
    private TokenizerBench() {}

    static Path repo() {
        return Path.of(System.getProperty("panopt.repo", ".")).toAbsolutePath().normalize();
    }

    static Path tokenizerDir() {
        return repo().resolve("conformance/fixtures/tokenizer");
    }

    @State(Scope.Thread)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
    @Warmup(iterations = 1, time = 2)
    @Measurement(iterations = 3, time = 2)
    public static class Encode {
        @Param("english") public String text;
        @Param("panopt") public String tokenizer;
        @Param("4") public double megabytes;

        List<String> chunks;
        OptTokenizer panopt;
        HuggingFaceTokenizer hf;

        @Setup(Level.Trial)
        public void setup() throws IOException {
            chunks = chunks(text.equals("english") ? english() : unicode((int) (megabytes * 1e6 / 3)), megabytes);
            switch (tokenizer) {
                case "panopt" -> panopt = OptTokenizer.fromPretrained(tokenizerDir());
                case "hf-tokenizers" -> hf = HuggingFaceTokenizer.builder().optTokenizerPath(hfTokenizerJson())
                        .optAddSpecialTokens(false).optTruncation(false).optPadding(false).build();
                default -> throw new IllegalArgumentException("tokenizer: panopt or hf-tokenizers");
            }
        }

        @Benchmark
        public long encode() {
            long n = 0;
            if (panopt != null) {
                for (String c : chunks) n += panopt.encode(c, false).length;
            } else {
                for (String c : chunks) n += hf.encode(c).getIds().length;
            }
            return n;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            if (hf != null) hf.close();
        }
    }

    /**
     * Loading OPT's tokenizer: {@code OptTokenizer.fromPretrained} on the bundled vocab.json + merges.txt
     * (files in the page cache), the start-up cost of every tokenizing command. One op = one load.
     */
    @State(Scope.Thread)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
    @Warmup(iterations = 1, time = 1)
    @Measurement(iterations = 3, time = 1)
    public static class Load {
        @Benchmark
        public OptTokenizer load() throws IOException {
            return OptTokenizer.fromPretrained(tokenizerDir());
        }
    }

    /** UTF-8 bytes of the chunks (for MB/s). */
    public static long utf8Bytes(String text, double megabytes) {
        String t = text.equals("english") ? english() : unicode((int) (megabytes * 1e6 / 3));
        long b = 0;
        for (String c : chunks(t, megabytes)) b += c.getBytes(StandardCharsets.UTF_8).length;
        return b;
    }

    static List<String> chunks(String source, double megabytes) {
        long target = (long) (megabytes * 1e6);
        List<String> out = new ArrayList<>();
        long bytes = 0;
        String[] paras = source.split("\n\n+");
        while (bytes < target) {
            StringBuilder cur = new StringBuilder();
            for (String p : paras) {
                cur.append(p).append("\n\n");
                if (cur.length() >= 2000) {
                    String s = cur.toString();
                    out.add(s);
                    bytes += s.getBytes(StandardCharsets.UTF_8).length;
                    cur.setLength(0);
                    if (bytes >= target) break;
                }
            }
        }
        return out;
    }

    /** English prose of the repository: Markdown files and Javadoc/comment lines of the Java sources. */
    static String english() {
        StringBuilder b = new StringBuilder();
        try (Stream<Path> s = Files.walk(repo())) {
            for (Path p : s.filter(Files::isRegularFile).sorted().toList()) {
                String rel = repo().relativize(p).toString();
                if (rel.contains("target/") || rel.startsWith(".") || rel.contains("/build")) continue;
                if (rel.endsWith(".md")) {
                    b.append(Files.readString(p)).append("\n\n");
                } else if (rel.endsWith(".java") && rel.contains("src/main")) {
                    for (String line : Files.readAllLines(p)) {
                        String t = line.strip();
                        if (t.startsWith("* ") || t.startsWith("// ")) b.append(t.substring(2)).append('\n');
                        else if (t.equals("*") || t.equals("*/")) b.append('\n');
                    }
                    b.append('\n');
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b.toString();
    }

    static final String[] SCRIPTS = {
        "àéîõüñçßøå ÀÉÎÕÜ", "αβγδεζηθικλμνξοπρστυφχψω", "абвгдежзийклмнопрстуфхцчшщыэюя",
        "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明",
        "مرحبا بالعالم العربية", "नमस्ते दुनिया हिन्दी", "😀😂🥲👍🏽🚀🌍✨🎉", "0123456789", ".,;:!?()[]{}-–—\"'«»",
        "the of and to in is that for it with as on be"};

    static String unicode(int chars) {
        SplittableRandom r = new SplittableRandom(7);
        StringBuilder b = new StringBuilder(chars + 64);
        while (b.length() < chars) {
            String script = SCRIPTS[r.nextInt(SCRIPTS.length)];
            int[] cps = script.codePoints().filter(c -> c != ' ').toArray();
            int words = 1 + r.nextInt(8);
            for (int w = 0; w < words; w++) {
                int len = 1 + r.nextInt(7);
                for (int i = 0; i < len; i++) b.appendCodePoint(cps[r.nextInt(cps.length)]);
                b.append(r.nextInt(12) == 0 ? "\n\n" : " ");
            }
        }
        return b.toString();
    }

    /** A Hugging Face tokenizer.json equivalent to OPT's vocab.json + merges.txt (GPT-2 byte-level BPE). */
    static synchronized Path hfTokenizerJson() throws IOException {
        Path dir = Checkpoints.cacheDir().resolve("tokenizer");
        Path f = dir.resolve("opt-tokenizer.json");
        if (Files.exists(f)) return f;
        Files.createDirectories(dir);
        String vocab = Files.readString(tokenizerDir().resolve("vocab.json")).strip();
        StringBuilder merges = new StringBuilder();
        for (String line : Files.readAllLines(tokenizerDir().resolve("merges.txt"))) {
            if (line.startsWith("#version") || line.isBlank()) continue;
            if (merges.length() > 0) merges.append(',');
            merges.append(Report.q(line));
        }
        StringBuilder added = new StringBuilder();
        String[] specials = {"<s>", "<pad>", "</s>", "<unk>"};
        for (int i = 0; i < specials.length; i++) {
            if (i > 0) added.append(',');
            added.append(String.format("{\"id\":%d,\"content\":\"%s\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,"
                    + "\"normalized\":true,\"special\":true}", i, specials[i]));
        }
        String json = "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[" + added + "],"
                + "\"normalizer\":null,"
                + "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":true},"
                + "\"post_processor\":{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"trim_offsets\":false,\"use_regex\":true},"
                + "\"decoder\":{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"trim_offsets\":true,\"use_regex\":true},"
                + "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,\"continuing_subword_prefix\":\"\","
                + "\"end_of_word_suffix\":\"\",\"fuse_unk\":false,\"byte_fallback\":false,\"vocab\":" + vocab
                + ",\"merges\":[" + merges + "]}}";
        Path tmp = Files.createTempFile(dir, "tok", ".json");
        Files.writeString(tmp, json);
        Files.move(tmp, f, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return f;
    }

    /** Checks both tokenizers agree on the benchmark text (prints the first disagreement). */
    public static void main(String[] args) throws IOException {
        OptTokenizer p = OptTokenizer.fromPretrained(tokenizerDir());
        try (HuggingFaceTokenizer h = HuggingFaceTokenizer.builder().optTokenizerPath(hfTokenizerJson())
                .optAddSpecialTokens(false).optTruncation(false).optPadding(false).build()) {
            for (String kind : new String[] {"english", "unicode"}) {
                int bad = 0, n = 0;
                for (String c : chunks(kind.equals("english") ? english() : unicode(300_000), 0.5)) {
                    int[] a = p.encode(c, false);
                    long[] b = h.encode(c).getIds();
                    int[] bi = Arrays.stream(b).mapToInt(x -> (int) x).toArray();
                    n++;
                    if (!Arrays.equals(a, bi) && bad++ == 0) {
                        int i = 0;
                        while (i < Math.min(a.length, bi.length) && a[i] == bi[i]) i++;
                        int from = Math.max(0, i - 3);
                        System.out.println(kind + ": first mismatch in chunk " + (n - 1) + " at token " + i + ": panopt "
                                + Arrays.toString(Arrays.copyOfRange(a, from, Math.min(a.length, i + 4))) + " = "
                                + p.decode(Arrays.copyOfRange(a, from, Math.min(a.length, i + 4))).replace("\n", "\\n") + " | hf "
                                + Arrays.toString(Arrays.copyOfRange(bi, from, Math.min(bi.length, i + 4))));
                    }
                }
                System.out.println(kind + ": " + (n - bad) + "/" + n + " chunks identical");
            }
        }
    }
}
