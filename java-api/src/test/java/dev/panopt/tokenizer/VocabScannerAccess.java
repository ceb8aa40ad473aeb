package dev.panopt.tokenizer;

/** Test access to the package-private {@link VocabScanner}. */
public final class VocabScannerAccess {
    private VocabScannerAccess() {}

    /** Whether the fast reader takes {@code text} (rather than leaving it to the strict parser). */
    public static boolean scans(String text) {
        return VocabScanner.scan(text) != null;
    }
}
