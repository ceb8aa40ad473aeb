package dev.panopt.hub;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * huggingface_hub's environment variables (its {@code constants.py} and {@code _auth.py}) and their
 * defaults: the one place their names are spelled.
 */
final class HubEnvironment {
    private static final System.Logger LOG = System.getLogger(HubEnvironment.class.getName());

    static final String DEFAULT_ENDPOINT = "https://huggingface.co";
    /** huggingface_hub's {@code DEFAULT_ETAG_TIMEOUT} and {@code DEFAULT_DOWNLOAD_TIMEOUT}, in seconds. */
    static final int DEFAULT_TIMEOUT_SECONDS = 10;
    private static final Set<String> TRUE_VALUES = Set.of("1", "ON", "YES", "TRUE");
    /** A token file is a line of text; anything longer is not one. */
    private static final long MAX_TOKEN_FILE_BYTES = 64 * 1024;

    private final Map<String, String> env;

    HubEnvironment(Map<String, String> env) {
        this.env = env;
    }

    private String get(String name) {
        String v = env.get(name);
        return v == null || v.isEmpty() ? null : v;
    }

    /** {@code HF_ENDPOINT}, without trailing slashes. */
    URI endpoint() {
        String v = get("HF_ENDPOINT");
        return v == null ? URI.create(DEFAULT_ENDPOINT) : HubOptions.checkEndpoint(v, "HF_ENDPOINT");
    }

    /** {@code HF_HOME}, else {@code $XDG_CACHE_HOME/huggingface}, else {@code ~/.cache/huggingface}. */
    Path home() {
        String v = get("HF_HOME");
        if (v != null) {
            return expandUser(v);
        }
        String xdg = get("XDG_CACHE_HOME");
        return (xdg != null ? expandUser(xdg) : userHome().resolve(".cache")).resolve("huggingface");
    }

    /** {@code HF_HUB_CACHE}, else the legacy {@code HUGGINGFACE_HUB_CACHE}, else {@code $HF_HOME/hub}. */
    Path hubCache() {
        String v = get("HF_HUB_CACHE");
        if (v == null) {
            v = get("HUGGINGFACE_HUB_CACHE");
        }
        return v != null ? expandUser(v) : home().resolve("hub");
    }

    /** {@code HF_HUB_OFFLINE} (or {@code TRANSFORMERS_OFFLINE}) set to 1, ON, YES or TRUE. */
    boolean offline() {
        String v = get("HF_HUB_OFFLINE");
        if (v == null) {
            v = get("TRANSFORMERS_OFFLINE");
        }
        return isTrue(v);
    }

    /**
     * The token sent by default: {@code HF_TOKEN}, else {@code HUGGING_FACE_HUB_TOKEN}, else the file
     * {@code HF_TOKEN_PATH} (default {@code $HF_HOME/token}); none when
     * {@code HF_HUB_DISABLE_IMPLICIT_TOKEN} is true. Returns null when there is none.
     */
    String token() {
        if (isTrue(get("HF_HUB_DISABLE_IMPLICIT_TOKEN"))) {
            return null;
        }
        String t = clean(get("HF_TOKEN"));
        if (t == null) {
            t = clean(get("HUGGING_FACE_HUB_TOKEN"));
        }
        if (t != null) {
            return t;
        }
        String pathVar = get("HF_TOKEN_PATH");
        Path file = pathVar != null ? expandUser(pathVar) : home().resolve("token");
        try {
            if (Files.size(file) > MAX_TOKEN_FILE_BYTES) {
                LOG.log(System.Logger.Level.WARNING, "{0} is over {1} bytes: not a token file, ignored", file,
                        MAX_TOKEN_FILE_BYTES);
                return null;
            }
            return clean(Files.readString(file, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot read the token file {0}: {1}", file, e.toString());
            return null;
        }
    }

    /** {@code HF_HUB_ETAG_TIMEOUT}: the metadata (HEAD) request's timeout. */
    Duration etagTimeout() {
        return seconds("HF_HUB_ETAG_TIMEOUT");
    }

    /** {@code HF_HUB_DOWNLOAD_TIMEOUT}: connection and read timeout of downloads. */
    Duration downloadTimeout() {
        return seconds("HF_HUB_DOWNLOAD_TIMEOUT");
    }

    private Duration seconds(String name) {
        String v = get(name);
        if (v == null) {
            return Duration.ofSeconds(DEFAULT_TIMEOUT_SECONDS);
        }
        try {
            int s = Integer.parseInt(v.trim());
            if (s > 0) {
                return Duration.ofSeconds(s);
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(name + " must be a positive whole number of seconds, got '"
                + RepoRef.printable(v) + "'");
    }

    static boolean isTrue(String v) {
        return v != null && TRUE_VALUES.contains(v.trim().toUpperCase(Locale.ROOT));
    }

    /** huggingface_hub's {@code _clean_token}: line breaks removed, trimmed, empty means none. */
    static String clean(String token) {
        if (token == null) {
            return null;
        }
        String t = token.replace("\r", "").replace("\n", "").strip();
        return t.isEmpty() ? null : t;
    }

    private Path userHome() {
        String h = get("HOME");
        return Path.of(h != null ? h : System.getProperty("user.home"));
    }

    /** A leading {@code ~} or {@code ~/} is the user's home, as Python's {@code expanduser}. */
    private Path expandUser(String p) {
        if (p.equals("~")) {
            return userHome();
        }
        if (p.startsWith("~/")) {
            return userHome().resolve(p.substring(2));
        }
        return Path.of(p);
    }
}
