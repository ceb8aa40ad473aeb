package dev.panopt.hub;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Checks a downloaded file against its ETag, which names its content on the hub: an LFS file's ETag
 * ({@code X-Linked-Etag}) is the SHA-256 of its bytes, a regular file's is its git blob id, the SHA-1
 * of {@code "blob <size>\0"} followed by its bytes. So a download that was resumed from a stale or
 * foreign {@code .incomplete} file, or garbled on the way, is never put into the cache. An ETag of
 * another shape (a server that is not the hub) is not checked; the size always is.
 */
final class ContentCheck {
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern SHA1 = Pattern.compile("[0-9a-f]{40}");

    private ContentCheck() {}

    /** The digest algorithm the ETag is made with, or null when it is not one of the hub's shapes. */
    static String algorithm(FileMetadata m) {
        if (m.lfs() && SHA256.matcher(m.etag()).matches()) {
            return "SHA-256";
        }
        if (!m.lfs() && SHA1.matcher(m.etag()).matches()) {
            return "SHA-1";
        }
        return null;
    }

    /**
     * Whether {@code file} has the content the ETag names (true when the ETag is not a digest).
     *
     * @throws IOException if the file cannot be read
     */
    static boolean matches(Path file, FileMetadata m) throws IOException {
        String alg = algorithm(m);
        if (alg == null) {
            return true;
        }
        return digest(file, alg, !m.lfs()).equals(m.etag());
    }

    /** Hex digest of the file, prefixed with git's blob header when {@code gitBlob}. */
    static String digest(Path file, String algorithm, boolean gitBlob) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is required of every JDK", e);
        }
        if (gitBlob) {
            md.update(("blob " + Files.size(file) + "\0").getBytes(StandardCharsets.US_ASCII));
        }
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
