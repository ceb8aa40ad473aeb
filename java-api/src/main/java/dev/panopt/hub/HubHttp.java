package dev.panopt.hub;

import dev.panopt.hub.HubException.Reason;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The hub's HTTP protocol, as huggingface_hub speaks it ({@code file_download.py}): a HEAD on
 * {@code <endpoint>/<repo>/resolve/<revision>/<file>} for the metadata (following relative
 * redirects only, so an LFS file's redirect to its CDN is not followed and its {@code X-Linked-*}
 * headers are read from the redirect itself), then a GET of the file (following any redirect), resumed
 * with {@code Range} from what an {@code .incomplete} file holds.
 *
 * <p>Security: the token goes only to the endpoint's origin (scheme, host and port), never to a
 * redirect's other host, and appears in no message or log; at most {@link #MAX_REDIRECTS} redirects;
 * sizes, ETags and commits from the server are checked before they size or name anything.
 *
 * <p>Thread-safe: the HTTP client and the stall watchdog are created on first use and shared.
 */
final class HubHttp implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(HubHttp.class.getName());
    /** Redirects followed for one request (httpx, which huggingface_hub uses, allows 20). */
    static final int MAX_REDIRECTS = 10;
    /** Progress is reported at most every this many bytes. */
    private static final long PROGRESS_STEP = 1 << 20;
    private static final Pattern ETAG = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}");
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d{1,19})-(\\d{1,19})/(\\d{1,19})");
    private static final String USER_AGENT = "panopt; java/" + Runtime.version().feature();

    private final HubOptions options;
    private HttpClient client;
    private ScheduledThreadPoolExecutor watchdog;
    private boolean closed;

    HubHttp(HubOptions options) {
        this.options = options;
        URI e = options.endpoint();
        if (options.token().isPresent() && "http".equalsIgnoreCase(e.getScheme()) && !isLoopback(e.getHost())) {
            LOG.log(System.Logger.Level.WARNING, "the hub endpoint {0} is plain http: the token travels unencrypted", e);
        }
    }

    /** The HTTP client; an IOException once closed (a download that another thread's close() aborted). */
    private synchronized HttpClient client() throws IOException {
        if (closed) {
            throw new IOException("the HubClient was closed");
        }
        if (client == null) {
            client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
                    .version(HttpClient.Version.HTTP_1_1).connectTimeout(options.downloadTimeout()).build();
        }
        return client;
    }

    /**
     * Schedules {@code task} every {@code periodNanos} on the watchdog thread. Under the client's lock, as
     * {@link #close()} marks it closed: a download that gets here after close() fails with an
     * IOException, never with the executor's RejectedExecutionException.
     */
    private synchronized ScheduledFuture<?> watch(Runnable task, long periodNanos) throws IOException {
        if (closed) {
            throw new IOException("the HubClient was closed");
        }
        if (watchdog == null) {
            watchdog = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "panopt-hub-watchdog");
                t.setDaemon(true);
                return t;
            });
            watchdog.setRemoveOnCancelPolicy(true);
        }
        return watchdog.scheduleAtFixedRate(task, periodNanos, periodNanos, TimeUnit.NANOSECONDS);
    }

    private synchronized boolean isClosed() {
        return closed;
    }

    /** Aborts requests in progress (their callers get an IOException) and releases the client's threads. */
    @Override
    public void close() {
        HttpClient c;
        ScheduledThreadPoolExecutor w;
        synchronized (this) {
            closed = true;
            c = client;
            w = watchdog;
        }
        if (c != null) {
            c.shutdownNow();
        }
        if (w != null) {
            w.shutdownNow();
        }
    }

    /** {@code <endpoint>/<repo>/resolve/<revision>/<file>}, revision and file percent-encoded as Python's {@code quote}. */
    URI resolveUrl(RepoRef ref, String filename) {
        return URI.create(options.endpoint() + "/" + ref.repoId() + "/resolve/" + encode(ref.revision(), false) + "/"
                + encode(filename, true));
    }

    /**
     * The file's metadata from a HEAD request.
     *
     * @throws EntryNotFoundException when the revision has no such file
     * @throws HubException for any other error status or a malformed answer
     * @throws IOException when the server cannot be reached
     */
    FileMetadata metadata(RepoRef ref, String filename) throws IOException {
        URI url = resolveUrl(ref, filename);
        for (int hop = 0; ; hop++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(url).method("HEAD", HttpRequest.BodyPublishers.noBody())
                    .timeout(options.metadataTimeout());
            HttpResponse<Void> r = send(headers(b, url).build(), HttpResponse.BodyHandlers.discarding());
            int s = r.statusCode();
            if (isRedirect(s)) {
                URI target = location(url, r, ref, filename);
                if (!isRelative(r)) {
                    return metadataOf(r, target, true, ref, filename);
                }
                if (hop >= MAX_REDIRECTS) {
                    throw bad(ref, filename, "more than " + MAX_REDIRECTS + " redirects");
                }
                url = target;
                continue;
            }
            if (s / 100 == 2) {
                return metadataOf(r, url, false, ref, filename);
            }
            throw error(r, ref, filename);
        }
    }

    private FileMetadata metadataOf(HttpResponse<?> r, URI location, boolean redirect, RepoRef ref, String filename)
            throws HubException {
        HttpHeaders h = r.headers();
        String commit = h.firstValue("X-Repo-Commit").orElse(null);
        if (commit == null || !RepoRef.isCommitHash(commit)) {
            throw bad(ref, filename, commit == null
                    ? "the answer has no X-Repo-Commit header (is " + options.endpoint() + " a Hugging Face hub?)"
                    : "X-Repo-Commit is not a commit hash: '" + RepoRef.printable(commit) + "'");
        }
        Optional<String> linked = h.firstValue("X-Linked-Etag");
        String rawEtag = linked.or(() -> h.firstValue("ETag")).orElseThrow(() -> bad(ref, filename,
                "the answer has no ETag, so the file's version cannot be known"));
        String etag = normalizeEtag(rawEtag);
        if (!ETAG.matcher(etag).matches()) {
            throw bad(ref, filename, "ETag '" + RepoRef.printable(rawEtag) + "' is not a plain name");
        }
        Optional<String> sizeHeader = h.firstValue("X-Linked-Size").or(() -> redirect ? Optional.empty()
                : h.firstValue("Content-Length"));
        if (sizeHeader.isEmpty()) {
            throw bad(ref, filename, "the answer gives no size (X-Linked-Size or Content-Length)");
        }
        long size = parseSize(sizeHeader.get(), ref, filename);
        return new FileMetadata(commit, etag, size, location, linked.isPresent());
    }

    private long parseSize(String v, RepoRef ref, String filename) throws HubException {
        long size;
        try {
            size = Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            throw bad(ref, filename, "size '" + RepoRef.printable(v) + "' is not a number");
        }
        if (size < 0 || size > options.maxFileSize()) {
            throw bad(ref, filename, "size " + size + " is outside 0.." + options.maxFileSize()
                    + " (HubOptions.maxFileSize)");
        }
        return size;
    }

    /** huggingface_hub's {@code _normalize_etag}: a weak {@code W/} prefix and the quotes dropped. */
    static String normalizeEtag(String etag) {
        String e = etag.strip();
        if (e.startsWith("W/")) {
            e = e.substring(2);
        }
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) {
            e = e.substring(1, e.length() - 1);
        }
        return e;
    }

    /**
     * Downloads the file into {@code incomplete}, continuing what it holds, until it has exactly
     * {@code m.size()} bytes whose digest matches the ETag. A transfer that breaks is resumed with
     * {@code Range} (at once when it brought bytes, after a second when not), at most
     * {@link HubOptions#maxRetries()} times in a row without progress; then the call fails and
     * {@code incomplete} stays for a later call.
     *
     * @throws HubException for an error status or an answer that breaks the protocol (a wrong size or
     *     content; {@code incomplete} is then deleted, since it cannot be resumed)
     * @throws IOException when the transfer keeps failing
     */
    void download(FileMetadata m, RepoRef ref, String filename, Path incomplete) throws IOException {
        warnIfLowOnDisk(incomplete, m.size());
        int retriesLeft = options.maxRetries();
        while (true) {
            long before = sizeOf(incomplete);
            if (before > m.size()) {
                Files.delete(incomplete);
                before = 0;
            }
            if (before == m.size()) {
                break;
            }
            try {
                fetch(m, ref, filename, incomplete, before);
                break;
            } catch (HubException e) {
                throw e;
            } catch (IOException e) {
                if (Thread.currentThread().isInterrupted() || e instanceof InterruptedIOException || isClosed()) {
                    throw e; // interrupted, or aborted by close(): not a transfer to resume now
                }
                boolean progressed = sizeOf(incomplete) > before;
                if (progressed) {
                    retriesLeft = options.maxRetries();
                }
                if (retriesLeft == 0) {
                    throw new IOException(ref + ": downloading " + filename + " failed (" + e.getMessage()
                            + "); " + sizeOf(incomplete) + " of " + m.size() + " bytes are kept in " + incomplete
                            + " and a later download resumes from there", e);
                }
                retriesLeft--;
                LOG.log(System.Logger.Level.WARNING, "{0}: downloading {1}: {2}; resuming", ref, filename, e.toString());
                if (!progressed) {
                    pause();
                }
            }
        }
        if (!ContentCheck.matches(incomplete, m)) {
            HubCache.deleteQuietly(incomplete);
            throw bad(ref, filename, "the downloaded bytes do not match the ETag " + m.etag() + " ("
                    + ContentCheck.algorithm(m) + "); the partial file was deleted");
        }
    }

    /** One GET from {@code from} to the end; throws a plain IOException when the transfer breaks. */
    private void fetch(FileMetadata m, RepoRef ref, String filename, Path incomplete, long from) throws IOException {
        HttpResponse<InputStream> r = get(m.location(), from, ref, filename);
        try (InputStream in = r.body()) {
            int s = r.statusCode();
            long start;
            if (s == 206 && from > 0) {
                start = checkContentRange(r, from, m.size(), ref, filename);
            } else if (s == 200) {
                start = 0; // a server that ignores Range sends everything: start over
            } else if (s / 100 == 2) {
                throw bad(ref, filename, "unexpected status " + s + " to a GET" + (from > 0 ? " with Range" : ""));
            } else {
                throw error(r, ref, filename);
            }
            String encoding = r.headers().firstValue("Content-Encoding").orElse("identity");
            if (!encoding.equalsIgnoreCase("identity")) {
                throw bad(ref, filename, "the body is encoded (" + RepoRef.printable(encoding)
                        + ") although identity was asked for");
            }
            Optional<String> length = r.headers().firstValue("Content-Length");
            if (length.isPresent() && !length.get().strip().equals(Long.toString(m.size() - start))) {
                throw bad(ref, filename, "Content-Length " + RepoRef.printable(length.get()) + " where "
                        + (m.size() - start) + " bytes were expected");
            }
            receive(in, m, ref, filename, incomplete, start);
        }
    }

    private void receive(InputStream in, FileMetadata m, RepoRef ref, String filename, Path incomplete, long start)
            throws IOException {
        Watch watch = new Watch(in, options.downloadTimeout().toNanos());
        try (FileChannel ch = FileChannel.open(incomplete, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ch.truncate(start);
            ch.position(start);
            long pos = start;
            long reported = pos;
            DownloadProgress progress = options.progress();
            progress.update(ref, filename, pos, m.size());
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) >= 0; ) {
                watch.touch();
                if (n > m.size() - pos) {
                    ch.close();
                    HubCache.deleteQuietly(incomplete);
                    throw bad(ref, filename, "the server sent more than the " + m.size() + " bytes it announced");
                }
                ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                while (bb.hasRemaining()) {
                    ch.write(bb);
                }
                pos += n;
                if (pos - reported >= PROGRESS_STEP || pos == m.size()) {
                    progress.update(ref, filename, pos, m.size());
                    reported = pos;
                }
            }
            if (pos < m.size()) {
                throw new IOException("the connection ended after " + pos + " of " + m.size() + " bytes");
            }
            if (pos == start) {
                progress.update(ref, filename, pos, m.size()); // an empty file: report its end
            }
            ch.force(true);
        } catch (IOException e) {
            if (watch.fired) {
                throw new HttpTimeoutException("no data for " + options.downloadTimeout().toMillis() + " ms");
            }
            throw e;
        } finally {
            watch.cancel();
        }
    }

    private long checkContentRange(HttpResponse<?> r, long from, long size, RepoRef ref, String filename)
            throws HubException {
        String cr = r.headers().firstValue("Content-Range").orElse("");
        Matcher mt = CONTENT_RANGE.matcher(cr.strip());
        if (!mt.matches() || !mt.group(1).equals(Long.toString(from)) || !mt.group(2).equals(Long.toString(size - 1))
                || !mt.group(3).equals(Long.toString(size))) {
            throw bad(ref, filename, "asked for bytes " + from + "-" + (size - 1) + "/" + size
                    + ", got Content-Range '" + RepoRef.printable(cr) + "'");
        }
        return from;
    }

    /** A GET following redirects; the token only to the endpoint's origin. */
    private HttpResponse<InputStream> get(URI url, long from, RepoRef ref, String filename) throws IOException {
        for (int hop = 0; ; hop++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(url).GET().timeout(options.downloadTimeout());
            if (from > 0) {
                b.header("Range", "bytes=" + from + "-");
            }
            HttpResponse<InputStream> r = send(headers(b, url).build(), HttpResponse.BodyHandlers.ofInputStream());
            if (!isRedirect(r.statusCode())) {
                return r;
            }
            r.body().close();
            if (hop >= MAX_REDIRECTS) {
                throw bad(ref, filename, "more than " + MAX_REDIRECTS + " redirects");
            }
            url = location(url, r, ref, filename);
        }
    }

    private HttpRequest.Builder headers(HttpRequest.Builder b, URI url) {
        b.header("User-Agent", USER_AGENT).header("Accept-Encoding", "identity");
        options.token().filter(t -> sameOrigin(url, options.endpoint()))
                .ifPresent(t -> b.header("Authorization", "Bearer " + t));
        return b;
    }

    private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) throws IOException {
        try {
            return client().send(request, handler);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted during " + request.method() + " " + request.uri());
        }
    }

    private static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    private static boolean isRelative(HttpResponse<?> r) {
        String loc = r.headers().firstValue("Location").orElse("");
        try {
            return new URI(loc).getRawAuthority() == null;
        } catch (java.net.URISyntaxException e) {
            return false;
        }
    }

    /** The redirect's target, resolved against the request's URL; it must be http(s). */
    private static URI location(URI base, HttpResponse<?> r, RepoRef ref, String filename) throws HubException {
        String loc = r.headers().firstValue("Location").orElseThrow(() -> bad(ref, filename,
                "a " + r.statusCode() + " redirect without Location"));
        URI target;
        try {
            target = base.resolve(new URI(loc.strip()));
        } catch (java.net.URISyntaxException | IllegalArgumentException e) {
            throw bad(ref, filename, "redirect to a malformed URL '" + RepoRef.printable(loc) + "'");
        }
        String scheme = target.getScheme();
        if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))
                || target.getHost() == null) {
            throw bad(ref, filename, "redirect to a non-http(s) URL '" + RepoRef.printable(loc) + "'");
        }
        return target;
    }

    static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost() != null
                && a.getHost().equalsIgnoreCase(b.getHost()) && port(a) == port(b);
    }

    private static int port(URI u) {
        return u.getPort() >= 0 ? u.getPort() : u.getScheme().equalsIgnoreCase("https") ? 443 : 80;
    }

    private static boolean isLoopback(String host) {
        return host.equals("localhost") || host.startsWith("127.") || host.equals("[::1]") || host.equals("::1");
    }

    /** The error of a non-2xx answer, classified by {@code X-Error-Code} as huggingface_hub's {@code hf_raise_for_status}. */
    private HubException error(HttpResponse<?> r, RepoRef ref, String filename) {
        int s = r.statusCode();
        String code = r.headers().firstValue("X-Error-Code").orElse("");
        String serverMessage = r.headers().firstValue("X-Error-Message").map(v -> " (" + RepoRef.printable(v) + ")")
                .orElse("");
        boolean tokenSent = options.token().isPresent() && sameOrigin(r.request().uri(), options.endpoint());
        String auth = tokenSent ? "the token sent gives no access" : "no token was sent (set HF_TOKEN or HubOptions.token)";
        String where = ref + ": " + filename + ": HTTP " + s + serverMessage + ": ";
        return switch (code) {
            case "RevisionNotFound" -> new HubException(Reason.REVISION_NOT_FOUND, s, where + "revision '"
                    + ref.revision() + "' not found in " + ref.repoId(), null);
            case "EntryNotFound" -> new EntryNotFoundException(s, where + "no such file at revision " + ref.revision(),
                    r.headers().firstValue("X-Repo-Commit").filter(RepoRef::isCommitHash).orElse(null));
            case "GatedRepo" -> new HubException(Reason.GATED_REPOSITORY, s, where + ref.repoId()
                    + " is gated: accept its conditions on the hub and use a token of that account; " + auth, null);
            case "RepoNotFound" -> new HubException(Reason.REPOSITORY_NOT_FOUND, s, where + "repository "
                    + ref.repoId() + " not found; if it is private, " + auth, null);
            default -> s == 404 ? new EntryNotFoundException(s, where + "not found", null)
                    : s == 401 || s == 403 ? new HubException(Reason.UNAUTHORIZED, s, where + "access refused; " + auth,
                            null)
                    : new HubException(Reason.HTTP_ERROR, s, where + "the server answered with an error", null);
        };
    }

    private static HubException bad(RepoRef ref, String filename, String problem) {
        return new HubException(Reason.BAD_RESPONSE, 0, ref + ": " + filename + ": " + problem, null);
    }

    /** Percent-encodes UTF-8 as Python's {@code quote}: letters, digits, {@code _.-~} (and {@code /} if kept) stay. */
    static String encode(String s, boolean keepSlash) {
        StringBuilder sb = new StringBuilder(s.length());
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.'
                    || c == '-' || c == '~' || (keepSlash && c == '/')) {
                sb.append((char) c);
            } else {
                sb.append('%').append(String.format(Locale.ROOT, "%02X", c));
            }
        }
        return sb.toString();
    }

    private static long sizeOf(Path p) throws IOException {
        return Files.exists(p) ? Files.size(p) : 0;
    }

    private static void pause() throws InterruptedIOException {
        try {
            Thread.sleep(1000); // huggingface_hub's pause before retrying a transfer that brought nothing
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting to resume a download");
        }
    }

    private static void warnIfLowOnDisk(Path incomplete, long size) {
        try {
            Path dir = incomplete.getParent();
            long free = Files.getFileStore(dir).getUsableSpace();
            if (free < size) {
                LOG.log(System.Logger.Level.WARNING, "{0} has {1} bytes free, the file needs {2}", dir, free, size);
            }
        } catch (IOException e) {
            // unknown: nothing to warn about
        }
    }

    /** Closes a body stream that brings no data for the timeout, so that a stalled read ends. */
    private final class Watch implements Runnable {
        private final InputStream in;
        private final long timeoutNanos;
        private volatile ScheduledFuture<?> task;
        private volatile long last = System.nanoTime();
        private volatile boolean fired;

        Watch(InputStream in, long timeoutNanos) throws IOException {
            this.in = in;
            this.timeoutNanos = timeoutNanos;
            long period = Math.max(TimeUnit.MILLISECONDS.toNanos(10), timeoutNanos / 4);
            task = watch(this, period);
        }

        void touch() {
            last = System.nanoTime();
        }

        @Override
        public void run() {
            if (!fired && System.nanoTime() - last > timeoutNanos) {
                fired = true;
                try {
                    in.close();
                } catch (IOException e) {
                    // the reader fails either way
                }
                cancel();
            }
        }

        void cancel() {
            ScheduledFuture<?> t = task;
            if (t != null) {
                t.cancel(false);
            }
        }
    }
}
