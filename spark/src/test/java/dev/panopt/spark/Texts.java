package dev.panopt.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Deterministic English-like test sentences of varied lengths (3 to 40 words), so batches need padding. */
final class Texts {
    private static final String[] WORDS = ("the a one every some cat dog bird river city house garden teacher child "
            + "market storm winter summer light music story letter road window friend morning night ran sang "
            + "found built painted carried watched opened crossed remembered quietly slowly happily under over "
            + "near beside after before because while and but so green old bright small heavy distant warm").split(" ");

    private Texts() {}

    static List<String> sentences(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int words = 3 + r.nextInt(38);
            StringBuilder b = new StringBuilder();
            for (int w = 0; w < words; w++) {
                String word = WORDS[r.nextInt(WORDS.length)];
                b.append(w == 0 ? Character.toUpperCase(word.charAt(0)) + word.substring(1) : " " + word);
            }
            out.add(b.append('.').toString());
        }
        return out;
    }

    /** A text of about {@code tokens} tokens (each repeated word is one token). */
    static String longText(int tokens) {
        return "Once" + " upon".repeat(tokens - 1);
    }
}
