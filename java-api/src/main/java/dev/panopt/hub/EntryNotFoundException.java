package dev.panopt.hub;

/**
 * The hub's {@code EntryNotFound} answer, with the commit it names ({@code X-Repo-Commit}) so that the
 * cache can record the file's absence at that commit ({@code .no_exist}).
 */
final class EntryNotFoundException extends HubException {
    private static final long serialVersionUID = 1L;

    /** The commit the answer named, or null. */
    private final String commit;

    EntryNotFoundException(int status, String message, String commit) {
        super(Reason.ENTRY_NOT_FOUND, status, message, null);
        this.commit = commit;
    }

    /** {@return the commit hash the server named, or null when it named none (or not a hash)} */
    String commit() {
        return commit;
    }
}
