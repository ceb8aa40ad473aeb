package dev.panopt.hub;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/**
 * A Hugging Face hub on the loopback interface, in the hub's URL layout and with its headers, for
 * {@link HubClient}'s tests over real sockets:
 *
 * <ul>
 *   <li>{@code /<org>/<name>/resolve/<revision>/<file>} (HEAD and GET): a regular file answers with
 *       a relative 307 to {@code /api/resolve-cache/models/<org>/<name>/<commit>/<file>} (as the hub
 *       does today), which answers 200 with {@code ETag} = git blob id, {@code X-Repo-Commit} and the
 *       body; an LFS file ({@code *.safetensors}, {@code *.bin}) answers with a 302 to the "CDN" at
 *       {@code http://localhost:<port>/cdn/<sha256>} (another host than the endpoint's 127.0.0.1),
 *       with {@code X-Linked-Etag} = SHA-256, {@code X-Linked-Size} and {@code X-Repo-Commit}.</li>
 *   <li>Errors as the hub's {@code X-Error-Code}: 401 {@code RepoNotFound} (unknown or private
 *       without token), 401 {@code GatedRepo}, 404 {@code RevisionNotFound}, 404 {@code EntryNotFound}
 *       (with {@code X-Repo-Commit}).</li>
 *   <li>{@code /cdn/<sha256>}: the blob, honouring {@code Range: bytes=N-} with 206; faults on
 *       demand: a connection closed (or stalled) after some bytes, {@code Range} ignored, a corrupt
 *       byte, a hook run mid-body.</li>
 * </ul>
 * Every request is recorded.
 */
final class HubTestServer implements AutoCloseable {
    static final String TOKEN = "hf_TestToken0123456789abcdef";

    record Request(String method, String path, String range, String authorization) {}

    /** A repository: commits (file name to bytes) and branches. */
    static final class Repo {
        final Map<String, Map<String, byte[]>> commits = new LinkedHashMap<>();
        final Map<String, String> branches = new LinkedHashMap<>();
        boolean gated;
        boolean privateRepo;
        boolean redirectLoop;
    }

    final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "hub-test-server");
        t.setDaemon(true);
        return t;
    });
    final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final Map<String, byte[]> blobs = new ConcurrentHashMap<>();
    final List<Request> requests = new CopyOnWriteArrayList<>();

    /** The next this many CDN bodies break after {@link #cutAfter} bytes. */
    final AtomicInteger cuts = new AtomicInteger();
    volatile int cutAfter;
    /** A broken body stalls this long before the connection closes (0: 200 ms). */
    volatile long stallMillis;
    volatile boolean ignoreRange;
    volatile boolean corrupt;
    /** Run by the CDN after half of a body is sent (for the concurrency tests). */
    volatile Runnable midBody = () -> {};
    /** Rewrites the headers of resolve answers (for the hostile-server tests): file name, headers. */
    volatile BiConsumer<String, Headers> rewrite = (f, h) -> {};

    HubTestServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Adds a commit to a repository (created if new) and points {@code branch} (if not null) at it. */
    Repo commit(String repoId, String commit, String branch, Map<String, byte[]> files) {
        Repo r = repos.computeIfAbsent(repoId, k -> new Repo());
        r.commits.put(commit, files);
        if (branch != null) {
            r.branches.put(branch, commit);
        }
        for (byte[] b : files.values()) {
            blobs.put(sha256(b), b);
        }
        return r;
    }

    List<Request> requests(String method, String pathPart) {
        return requests.stream().filter(r -> r.method().equals(method) && r.path().contains(pathPart)).toList();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    static boolean isLfs(String file) {
        return file.endsWith(".safetensors") || file.endsWith(".bin");
    }

    static String sha256(byte[] b) {
        return hex("SHA-256", new byte[0], b);
    }

    static String gitBlobId(byte[] b) {
        return hex("SHA-1", ("blob " + b.length + "\0").getBytes(StandardCharsets.US_ASCII), b);
    }

    private static String hex(String alg, byte[] prefix, byte[] b) {
        try {
            MessageDigest md = MessageDigest.getInstance(alg);
            md.update(prefix);
            return HexFormat.of().formatHex(md.digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String raw = ex.getRequestURI().getRawPath();
            Headers in = ex.getRequestHeaders();
            requests.add(new Request(ex.getRequestMethod(), raw, in.getFirst("Range"), in.getFirst("Authorization")));
            String[] seg = raw.split("/", -1);
            if (seg.length >= 6 && seg[3].equals("resolve")) {
                resolve(ex, seg[1] + "/" + seg[2], decode(seg[4]), decode(String.join("/", Arrays.copyOfRange(seg, 5,
                        seg.length))));
            } else if (seg.length >= 8 && raw.startsWith("/api/resolve-cache/models/")) {
                resolveCache(ex, seg[4] + "/" + seg[5], decode(seg[6]), decode(String.join("/",
                        Arrays.copyOfRange(seg, 7, seg.length))));
            } else if (seg.length == 3 && seg[1].equals("cdn")) {
                cdn(ex, seg[2]);
            } else {
                send(ex, 404, null);
            }
        } catch (IOException e) {
            // a connection the test broke on purpose
        }
    }

    /** The repository's commit for a revision, or null after answering with the hub's error. */
    private String lookup(HttpExchange ex, Repo repo, String revision) throws IOException {
        boolean authed = ("Bearer " + TOKEN).equals(ex.getRequestHeaders().getFirst("Authorization"));
        Headers h = ex.getResponseHeaders();
        if (repo == null || repo.privateRepo && !authed) {
            h.set("X-Error-Code", "RepoNotFound");
            h.set("X-Error-Message", "Repository not found");
            send(ex, authed ? 404 : 401, null);
            return null;
        }
        if (repo.gated && !authed) {
            h.set("X-Error-Code", "GatedRepo");
            h.set("X-Error-Message", "Access to this model is restricted");
            send(ex, 401, null);
            return null;
        }
        String commit = repo.branches.getOrDefault(revision, repo.commits.containsKey(revision) ? revision : null);
        if (commit == null) {
            h.set("X-Error-Code", "RevisionNotFound");
            send(ex, 404, null);
        }
        return commit;
    }

    private void resolve(HttpExchange ex, String repoId, String revision, String file) throws IOException {
        Repo repo = repos.get(repoId);
        Headers h = ex.getResponseHeaders();
        if (repo != null && repo.redirectLoop) {
            h.set("Location", ex.getRequestURI().getRawPath());
            send(ex, 307, null);
            return;
        }
        String commit = lookup(ex, repo, revision);
        if (commit == null) {
            return;
        }
        byte[] content = repo.commits.get(commit).get(file);
        h.set("X-Repo-Commit", commit);
        if (content == null) {
            h.set("X-Error-Code", "EntryNotFound");
            send(ex, 404, null);
            return;
        }
        if (isLfs(file)) {
            String sha = sha256(content);
            h.set("Location", "http://localhost:" + server.getAddress().getPort() + "/cdn/" + sha + "?X-Amz-Signature=x");
            h.set("ETag", "\"" + gitBlobId(("oid sha256:" + sha).getBytes(StandardCharsets.US_ASCII)) + "\"");
            h.set("X-Linked-Etag", "\"" + sha + "\"");
            h.set("X-Linked-Size", Long.toString(content.length));
            rewrite.accept(file, h);
            send(ex, 302, null);
        } else {
            h.set("Location", "/api/resolve-cache/models/" + repoId + "/" + commit + "/" + HubHttp.encode(file, true));
            rewrite.accept(file, h);
            send(ex, 307, null);
        }
    }

    private void resolveCache(HttpExchange ex, String repoId, String commit, String file) throws IOException {
        Repo repo = repos.get(repoId);
        if (lookup(ex, repo, commit) == null) {
            return;
        }
        byte[] content = repo.commits.get(commit).get(file);
        Headers h = ex.getResponseHeaders();
        h.set("X-Repo-Commit", commit);
        h.set("ETag", "\"" + gitBlobId(content) + "\"");
        rewrite.accept(file, h);
        send(ex, 200, content);
    }

    private void cdn(HttpExchange ex, String sha) throws IOException {
        byte[] content = blobs.get(sha);
        if (content == null) {
            send(ex, 404, null);
            return;
        }
        if (corrupt) {
            content = content.clone();
            content[content.length - 1] ^= 1;
        }
        int from = 0;
        String range = ex.getRequestHeaders().getFirst("Range");
        if (range != null && !ignoreRange) {
            from = Integer.parseInt(range.substring("bytes=".length(), range.length() - 1));
            ex.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + (content.length - 1) + "/"
                    + content.length);
        }
        int length = content.length - from;
        ex.sendResponseHeaders(range != null && !ignoreRange ? 206 : 200, length);
        OutputStream out = ex.getResponseBody();
        boolean cut = cuts.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
        int half = cut ? Math.min(cutAfter, length) : length / 2;
        out.write(content, from, half);
        out.flush();
        if (cut) {
            // a pause (or a stall) before the close, so that the client has read what was sent: a client
            // that sees the connection end drops what it has received but not read yet
            sleep(stallMillis > 0 ? stallMillis : 200);
            return; // closing the exchange with bytes missing closes the connection
        }
        midBody.run();
        out.write(content, from + half, length - half);
    }

    private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
        boolean head = ex.getRequestMethod().equals("HEAD");
        if (body != null && head) {
            ex.getResponseHeaders().set("Content-Length", Integer.toString(body.length));
        }
        ex.sendResponseHeaders(status, body == null || head ? -1 : body.length);
        if (body != null && !head) {
            ex.getResponseBody().write(body);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Percent-decoding of a path segment (no '+' for space, unlike URLDecoder). */
    static String decode(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%' && i + 2 < s.length()) {
                out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                out.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
