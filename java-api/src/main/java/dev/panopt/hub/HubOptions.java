package dev.panopt.hub;

import dev.panopt.Nullable;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * How a {@link HubClient} reaches the hub and where it caches files. Immutable; build with
 * {@link #builder()}, whose defaults come from huggingface_hub's environment variables:
 *
 * <ul>
 *   <li>{@code HF_ENDPOINT}: the hub's URL (default {@code https://huggingface.co}); files are at
 *       {@code <endpoint>/<repo>/resolve/<revision>/<file>}.</li>
 *   <li>{@code HF_TOKEN} (or the legacy {@code HUGGING_FACE_HUB_TOKEN}), else the file
 *       {@code HF_TOKEN_PATH} (default {@code $HF_HOME/token}, written by {@code hf auth login}): the
 *       bearer token for private and gated repositories; {@code HF_HUB_DISABLE_IMPLICIT_TOKEN=1}
 *       sends none by default.</li>
 *   <li>{@code HF_HUB_CACHE} (or the legacy {@code HUGGINGFACE_HUB_CACHE}), default
 *       {@code $HF_HOME/hub}; {@code HF_HOME} defaults to {@code $XDG_CACHE_HOME/huggingface} or
 *       {@code ~/.cache/huggingface}: the cache shared with Python.</li>
 *   <li>{@code HF_HUB_OFFLINE} (or {@code TRANSFORMERS_OFFLINE}) = 1/ON/YES/TRUE: use the cache only.</li>
 *   <li>{@code HF_HUB_ETAG_TIMEOUT}, {@code HF_HUB_DOWNLOAD_TIMEOUT}: seconds (default 10).</li>
 * </ul>
 *
 * <p>Immutable and thread-safe; {@link #toString()} never shows the token.
 */
public final class HubOptions {
    /** huggingface_hub's {@code MAX_HTTP_DOWNLOAD_SIZE} (50 GB): the default largest file accepted. */
    public static final long DEFAULT_MAX_FILE_SIZE = 50_000_000_000L;
    /** Resumptions of a download whose transfer broke, by default (huggingface_hub's). */
    public static final int DEFAULT_MAX_RETRIES = 5;

    private final URI endpoint;
    private final String token;
    private final Path cacheDir;
    private final boolean offline;
    private final DownloadProgress progress;
    private final Duration metadataTimeout;
    private final Duration downloadTimeout;
    private final int maxRetries;
    private final long maxFileSize;

    private HubOptions(Builder b) {
        endpoint = b.endpoint;
        token = b.token;
        cacheDir = b.cacheDir;
        offline = b.offline;
        progress = b.progress;
        metadataTimeout = b.metadataTimeout;
        downloadTimeout = b.downloadTimeout;
        maxRetries = b.maxRetries;
        maxFileSize = b.maxFileSize;
    }

    /** {@return the hub's base URL, without a trailing slash} */
    public URI endpoint() {
        return endpoint;
    }

    /** {@return the bearer token, sent to the endpoint's origin only (never to a redirect's other host)} */
    public Optional<String> token() {
        return Optional.ofNullable(token);
    }

    /** {@return the hub cache directory ({@code models--org--name/...} lies in it)} */
    public Path cacheDir() {
        return cacheDir;
    }

    /** {@return whether only the cache is used, never the network} */
    public boolean offline() {
        return offline;
    }

    /** {@return the download progress listener ({@link DownloadProgress#NONE} by default)} */
    public DownloadProgress progress() {
        return progress;
    }

    /** {@return how long a metadata (HEAD) request may take} */
    public Duration metadataTimeout() {
        return metadataTimeout;
    }

    /** {@return how long connecting, waiting for a download's answer, or a pause in its body may take} */
    public Duration downloadTimeout() {
        return downloadTimeout;
    }

    /** {@return how many times a download whose transfer broke is resumed before giving up} */
    public int maxRetries() {
        return maxRetries;
    }

    /** {@return the largest file size accepted from the server, in bytes} */
    public long maxFileSize() {
        return maxFileSize;
    }

    /** {@return a builder with this object's settings} */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.endpoint = endpoint;
        b.token = token;
        b.cacheDir = cacheDir;
        b.offline = offline;
        b.progress = progress;
        b.metadataTimeout = metadataTimeout;
        b.downloadTimeout = downloadTimeout;
        b.maxRetries = maxRetries;
        b.maxFileSize = maxFileSize;
        return b;
    }

    @Override
    public String toString() {
        return "HubOptions[endpoint=" + endpoint + ", token=" + (token == null ? "none" : "(set)") + ", cacheDir="
                + cacheDir + ", offline=" + offline + ", metadataTimeout=" + metadataTimeout + ", downloadTimeout="
                + downloadTimeout + ", maxRetries=" + maxRetries + ", maxFileSize=" + maxFileSize + "]";
    }

    /**
     * A builder whose defaults come from this process's environment variables (see the class comment);
     * the token file, if any, is read now.
     *
     * @return the builder
     * @throws IllegalArgumentException if a variable is malformed (e.g. {@code HF_ENDPOINT} not an http(s) URL)
     */
    public static Builder builder() {
        return builder(System.getenv());
    }

    /**
     * A builder whose defaults come from {@code environment} instead of the process's variables (the
     * same names; {@code HOME} for {@code ~}, else the {@code user.home} property).
     *
     * @param environment variable name to value
     * @return the builder
     * @throws IllegalArgumentException if a variable is malformed
     */
    public static Builder builder(Map<String, String> environment) {
        Objects.requireNonNull(environment, "environment");
        HubEnvironment env = new HubEnvironment(environment);
        Builder b = new Builder();
        b.endpoint = env.endpoint();
        b.token = env.token();
        b.cacheDir = env.hubCache();
        b.offline = env.offline();
        b.metadataTimeout = env.etagTimeout();
        b.downloadTimeout = env.downloadTimeout();
        return b;
    }

    /** An http(s) URL with a host, no credentials, query or fragment; trailing slashes removed. */
    static URI checkEndpoint(String url, String what) {
        String s = url.strip();
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        URI u;
        try {
            u = new URI(s);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(what + " is not a URL: '" + RepoRef.printable(url) + "'", e);
        }
        String scheme = u.getScheme();
        if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))
                || u.getHost() == null || u.getRawUserInfo() != null || u.getRawQuery() != null
                || u.getRawFragment() != null) {
            throw new IllegalArgumentException(what + " must be an http or https URL with a host and without"
                    + " credentials, query or fragment, got '" + RepoRef.printable(url) + "'");
        }
        return u;
    }

    /** Builder of {@link HubOptions}; not thread-safe. */
    public static final class Builder {
        private URI endpoint;
        private String token;
        private Path cacheDir;
        private boolean offline;
        private DownloadProgress progress = DownloadProgress.NONE;
        private Duration metadataTimeout;
        private Duration downloadTimeout;
        private int maxRetries = DEFAULT_MAX_RETRIES;
        private long maxFileSize = DEFAULT_MAX_FILE_SIZE;

        private Builder() {}

        /**
         * The hub's base URL (a mirror or a self-hosted hub), as {@code HF_ENDPOINT}.
         *
         * @param url an http or https URL; trailing slashes are dropped
         * @return this builder
         * @throws IllegalArgumentException if it is not an http(s) URL with a host, or has credentials, a query or a fragment
         */
        public Builder endpoint(String url) {
            endpoint = checkEndpoint(Objects.requireNonNull(url, "url"), "endpoint");
            return this;
        }

        /**
         * The bearer token ({@code hf_...}), as {@code HF_TOKEN}; null or blank for none.
         *
         * @param v the token, or null
         * @return this builder
         */
        public Builder token(@Nullable String v) {
            token = HubEnvironment.clean(v);
            return this;
        }

        /**
         * The hub cache directory, as {@code HF_HUB_CACHE}; created when first written.
         *
         * @param v the directory
         * @return this builder
         */
        public Builder cacheDir(Path v) {
            cacheDir = Objects.requireNonNull(v, "cacheDir");
            return this;
        }

        /**
         * Use only the cache, as {@code HF_HUB_OFFLINE=1}.
         *
         * @param v true for offline
         * @return this builder
         */
        public Builder offline(boolean v) {
            offline = v;
            return this;
        }

        /**
         * The download progress listener.
         *
         * @param v the listener
         * @return this builder
         */
        public Builder progress(DownloadProgress v) {
            progress = Objects.requireNonNull(v, "progress");
            return this;
        }

        /**
         * How long a metadata (HEAD) request may take, as {@code HF_HUB_ETAG_TIMEOUT}.
         *
         * @param v a positive duration
         * @return this builder
         * @throws IllegalArgumentException if {@code v} is not positive
         */
        public Builder metadataTimeout(Duration v) {
            metadataTimeout = positive(v, "metadataTimeout");
            return this;
        }

        /**
         * How long connecting, waiting for a download's answer or a pause in its body may take, as
         * {@code HF_HUB_DOWNLOAD_TIMEOUT}.
         *
         * @param v a positive duration
         * @return this builder
         * @throws IllegalArgumentException if {@code v} is not positive
         */
        public Builder downloadTimeout(Duration v) {
            downloadTimeout = positive(v, "downloadTimeout");
            return this;
        }

        /**
         * How many times a download whose transfer broke (connection closed or stalled mid-body) is
         * resumed with a {@code Range} request before the call fails, leaving the {@code .incomplete}
         * file for a later call to resume.
         *
         * @param v 0 or more
         * @return this builder
         * @throws IllegalArgumentException if {@code v} is negative
         */
        public Builder maxRetries(int v) {
            if (v < 0) {
                throw new IllegalArgumentException("maxRetries must be >= 0, got " + v);
            }
            maxRetries = v;
            return this;
        }

        /**
         * The largest file the server may announce; a larger one is refused before any byte is written.
         *
         * @param v bytes, at least 1
         * @return this builder
         * @throws IllegalArgumentException if {@code v} is less than 1
         */
        public Builder maxFileSize(long v) {
            if (v < 1) {
                throw new IllegalArgumentException("maxFileSize must be >= 1, got " + v);
            }
            maxFileSize = v;
            return this;
        }

        /** {@return the options} */
        public HubOptions build() {
            return new HubOptions(this);
        }

        private static Duration positive(Duration v, String what) {
            Objects.requireNonNull(v, what);
            if (v.isNegative() || v.isZero()) {
                throw new IllegalArgumentException(what + " must be positive, got " + v);
            }
            return v;
        }
    }
}
