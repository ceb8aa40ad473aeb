package dev.panopt.hub;

import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A model repository of the Hugging Face hub at a revision: {@code org/name} (or a bare {@code name})
 * and a branch, tag or commit hash, written {@code org/name[@revision]} (revision {@code main} when
 * omitted), as {@code from_pretrained("facebook/opt-125m", revision=...)} takes them.
 *
 * <p>Both parts are checked as huggingface_hub checks them, because they become URL and cache path
 * components: a repository id is 1 to 96 characters of {@code [A-Za-z0-9_.-]} after an optional
 * namespace of the same characters, each part starting and ending with a letter, digit or
 * {@code _}, without {@code --} or {@code ..}, not ending in {@code .git}; a revision is printable
 * ASCII without spaces or {@code ~^:?*[\}, whose {@code /}-separated parts are non-empty and do not
 * start with a dot (so {@code refs/pr/1} is one, {@code ../x} is not).
 *
 * <p>Immutable and thread-safe.
 *
 * @param repoId   {@code org/name} or {@code name}
 * @param revision a branch, tag or commit hash
 */
public record RepoRef(String repoId, String revision) {
    /** The revision used when none is given, as in huggingface_hub. */
    public static final String DEFAULT_REVISION = "main";

    private static final Pattern REPO_ID = Pattern.compile(
            "(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?/)?[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    private static final int MAX_REVISION_LENGTH = 256;

    /**
     * Checks both parts.
     *
     * @param repoId   {@code org/name} or {@code name}
     * @param revision a branch, tag or commit hash
     * @throws IllegalArgumentException if either part is malformed (the message says which rule)
     */
    public RepoRef {
        Objects.requireNonNull(repoId, "repoId");
        Objects.requireNonNull(revision, "revision");
        String bad = repoIdProblem(repoId);
        if (bad != null) {
            throw new IllegalArgumentException("invalid repository id '" + printable(repoId) + "': " + bad);
        }
        bad = revisionProblem(revision);
        if (bad != null) {
            throw new IllegalArgumentException("invalid revision '" + printable(revision) + "': " + bad);
        }
    }

    /**
     * The repository at revision {@code main}.
     *
     * @param repoId {@code org/name} or {@code name}
     * @return the reference
     * @throws IllegalArgumentException if {@code repoId} is malformed
     */
    public static RepoRef of(String repoId) {
        return new RepoRef(repoId, DEFAULT_REVISION);
    }

    /**
     * Parses {@code org/name[@revision]}: the first {@code @} separates the revision.
     *
     * @param text the reference
     * @return the reference
     * @throws IllegalArgumentException if it is malformed
     */
    public static RepoRef parse(String text) {
        Objects.requireNonNull(text, "text");
        int at = text.indexOf('@');
        return at < 0 ? of(text) : new RepoRef(text.substring(0, at), text.substring(at + 1));
    }

    /**
     * Parses {@code org/name[@revision]}, or returns empty when {@code text} is not one.
     *
     * @param text the candidate
     * @return the reference, or empty
     */
    public static Optional<RepoRef> tryParse(String text) {
        Objects.requireNonNull(text, "text");
        try {
            return Optional.of(parse(text));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** {@return whether the revision is a full commit hash (40 lowercase hex digits), which never moves} */
    public boolean isCommit() {
        return isCommitHash(revision);
    }

    /**
     * The same repository at another revision.
     *
     * @param newRevision a branch, tag or commit hash
     * @return the reference
     * @throws IllegalArgumentException if {@code newRevision} is malformed
     */
    public RepoRef withRevision(String newRevision) {
        return new RepoRef(repoId, newRevision);
    }

    /** {@return {@code org/name}, followed by {@code @revision} unless the revision is {@code main}} */
    @Override
    public String toString() {
        return revision.equals(DEFAULT_REVISION) ? repoId : repoId + "@" + revision;
    }

    static boolean isCommitHash(String s) {
        return COMMIT.matcher(s).matches();
    }

    private static String repoIdProblem(String id) {
        if (!REPO_ID.matcher(id).matches()) {
            return "must be 'name' or 'namespace/name' of letters, digits, '-', '_' and '.', each part starting and"
                    + " ending with a letter, digit or '_', the name at most 96 characters";
        }
        if (id.contains("--") || id.contains("..")) {
            return "cannot contain '--' or '..'";
        }
        if (id.endsWith(".git")) {
            return "cannot end in '.git'";
        }
        return null;
    }

    private static String revisionProblem(String rev) {
        if (rev.isEmpty() || rev.length() > MAX_REVISION_LENGTH) {
            return "must have 1 to " + MAX_REVISION_LENGTH + " characters";
        }
        for (int i = 0; i < rev.length(); i++) {
            char c = rev.charAt(i);
            if (c <= ' ' || c >= 0x7f || "~^:?*[\\".indexOf(c) >= 0) {
                return "character " + (c < ' ' || c >= 0x7f ? String.format("U+%04X", (int) c) : "'" + c + "'")
                        + " is not allowed";
            }
        }
        for (String part : rev.split("/", -1)) {
            if (part.isEmpty() || part.startsWith(".")) {
                return "each '/'-separated part must be non-empty and not start with '.'";
            }
        }
        return null;
    }

    /** The text with control characters escaped, for messages. */
    static String printable(String s) {
        StringBuilder sb = new StringBuilder(Math.min(s.length(), 200));
        for (int i = 0; i < s.length() && sb.length() < 200; i++) {
            char c = s.charAt(i);
            if (c < ' ' || c == 0x7f) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return s.length() > 200 ? sb + "..." : sb.toString();
    }
}
