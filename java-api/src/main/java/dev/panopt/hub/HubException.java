package dev.panopt.hub;

import dev.panopt.Nullable;
import java.io.IOException;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * A file could not be had from the hub or the cache, with the reason as huggingface_hub's error
 * classes give it ({@code RepositoryNotFoundError}, {@code GatedRepoError}, ...). The message names
 * the repository, revision and file, never the token.
 *
 * <p>Immutable after construction (as exceptions are); safe to pass between threads.
 */
public class HubException extends IOException {
    private static final long serialVersionUID = 1L;

    /** Why the file could not be had. */
    public enum Reason {
        /** The repository does not exist, or is private and the token (if any) gives no access (HF's {@code RepoNotFound}). */
        REPOSITORY_NOT_FOUND,
        /** The repository is gated and the token (if any) has not been granted access (HF's {@code GatedRepo}). */
        GATED_REPOSITORY,
        /** The server refused the request (401 or 403) for another reason, e.g. an invalid token. */
        UNAUTHORIZED,
        /** The repository exists but not the revision (HF's {@code RevisionNotFound}). */
        REVISION_NOT_FOUND,
        /** The revision exists but not the file (HF's {@code EntryNotFound}, or a plain 404). */
        ENTRY_NOT_FOUND,
        /** Offline, or the hub could not be reached, and the cache does not have the file (HF's {@code LocalEntryNotFoundError}). */
        NOT_CACHED,
        /** The server's answer broke the hub's protocol: a missing or malformed header, a size or content mismatch, too many redirects. */
        BAD_RESPONSE,
        /** Any other HTTP error status (e.g. 500). */
        HTTP_ERROR
    }

    /** Why the file could not be had. */
    private final Reason reason;
    /** The HTTP status of the answer at fault, or 0. */
    private final int status;

    /**
     * An exception with a reason.
     *
     * @param reason  why
     * @param status  the HTTP status, or 0 when none is involved
     * @param message the message (names the repository and file)
     * @param cause   the underlying exception, or null
     */
    public HubException(Reason reason, int status, String message, @Nullable Throwable cause) {
        super(Objects.requireNonNull(message, "message"), cause);
        this.reason = Objects.requireNonNull(reason, "reason");
        if (status != 0 && (status < 100 || status > 999)) {
            throw new IllegalArgumentException("status must be 0 or an HTTP status, got " + status);
        }
        this.status = status;
    }

    /** {@return why the file could not be had} */
    public Reason reason() {
        return reason;
    }

    /** {@return the HTTP status of the answer at fault, if there was one} */
    public OptionalInt httpStatus() {
        return status == 0 ? OptionalInt.empty() : OptionalInt.of(status);
    }
}
