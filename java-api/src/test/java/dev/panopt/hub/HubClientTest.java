package dev.panopt.hub;

import static dev.panopt.hub.HubFixtures.COMMIT_MAIN;
import static dev.panopt.hub.HubFixtures.COMMIT_V1;
import static dev.panopt.hub.HubFixtures.REPO;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.OptForCausalLM;
import dev.panopt.hub.HubException.Reason;
import dev.panopt.tokenizer.OptTokenizer;
import java.io.IOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** {@link HubClient} against the loopback test hub: cache layout, revisions, errors, tokens, offline. */
class HubClientTest extends HubTestBase {

    static void assertReason(Reason reason, int status, HubException e) {
        assertEquals(reason, e.reason(), e.getMessage());
        assertEquals(status == 0 ? OptionalInt.empty() : OptionalInt.of(status), e.httpStatus(), e.getMessage());
    }

    @Test
    void downloadsAModelIntoHuggingFacesCacheLayout() throws Exception {
        HubClient hub = client();
        Path dir = hub.downloadModel(RepoRef.of(REPO));
        Path storage = storage(REPO);
        assertEquals(storage.resolve("snapshots").resolve(COMMIT_MAIN), dir);
        assertEquals(COMMIT_MAIN, Files.readString(storage.resolve("refs/main")));
        String configBlob = HubTestServer.gitBlobId(fixtures.configMain);
        String weightsBlob = HubTestServer.sha256(fixtures.weights);
        assertEquals(Path.of("../../blobs/" + configBlob), Files.readSymbolicLink(dir.resolve("config.json")));
        assertEquals(Path.of("../../blobs/" + weightsBlob), Files.readSymbolicLink(dir.resolve("model.safetensors")));
        assertArrayEquals(fixtures.configMain, Files.readAllBytes(dir.resolve("config.json")));
        assertArrayEquals(fixtures.weights, Files.readAllBytes(storage.resolve("blobs").resolve(weightsBlob)));
        for (String f : List.of("vocab.json", "merges.txt", "tokenizer_config.json")) {
            assertTrue(Files.isSymbolicLink(dir.resolve(f)), f);
        }
        // absent optional files are recorded, as huggingface_hub records them
        for (String f : List.of("special_tokens_map.json", "added_tokens.json")) {
            assertTrue(Files.isRegularFile(storage.resolve(".no_exist").resolve(COMMIT_MAIN).resolve(f)), f);
            assertFalse(Files.exists(dir.resolve(f)), f);
        }
        assertTrue(Files.readString(cache.resolve("CACHEDIR.TAG")).startsWith("Signature: 8a477f597d28d172789f06886806bc55"));
        assertTrue(Files.isRegularFile(cache.resolve(".locks/models--panopt-test--preln-tiny/" + weightsBlob + ".lock")));
        try (Stream<Path> blobs = Files.list(storage.resolve("blobs"))) {
            assertTrue(blobs.noneMatch(p -> p.toString().endsWith(".incomplete")));
        }

        // Everything is cached now: one HEAD learns that main is still the same commit, nothing else goes out.
        int before = server.requests.size();
        assertEquals(dir, hub.downloadModel(RepoRef.of(REPO)));
        assertEquals(List.of("HEAD"), server.requests.subList(before, server.requests.size()).stream()
                .filter(r -> r.path().contains("/resolve/")).map(HubTestServer.Request::method).toList());
        assertTrue(server.requests(("GET"), "/").stream().allMatch(r -> server.requests.indexOf(r) < before));

        // The snapshot is a checkpoint and tokenizer directory like a local one.
        try (OptForCausalLM fromHub = OptForCausalLM.fromPretrained(dir);
             OptForCausalLM local = OptForCausalLM.fromPretrained(HubFixtures.PRELN)) {
            assertArrayEquals(HubFixtures.lastLogits(local), HubFixtures.lastLogits(fromHub));
        }
        assertArrayEquals(OptTokenizer.fromPretrained(HubFixtures.TOKENIZER).encode("Hello world"),
                OptTokenizer.fromPretrained(dir).encode("Hello world"));
    }

    @Test
    void aTokenizerDownloadFetchesNoWeights() throws Exception {
        Path dir = client().downloadTokenizer(RepoRef.of(REPO));
        assertEquals(storage(REPO).resolve("snapshots").resolve(COMMIT_MAIN), dir);
        assertTrue(Files.isSymbolicLink(dir.resolve("vocab.json")));
        assertTrue(server.requests("HEAD", "model.safetensors").isEmpty());
        assertTrue(server.requests("GET", "/cdn/").isEmpty());
        assertEquals(50265, OptTokenizer.fromPretrained(dir).vocabSize());

        HubException e = assertThrows(HubException.class, () -> client().downloadTokenizer(RepoRef.of(HubFixtures.SHARDED)));
        assertReason(Reason.ENTRY_NOT_FOUND, 0, e);
        assertTrue(e.getMessage().contains("no tokenizer files"), e.getMessage());
    }

    @Test
    void aShardedCheckpointIsFetchedShardByShard() throws Exception {
        Path dir = client().downloadModel(RepoRef.of(HubFixtures.SHARDED));
        for (String f : fixtures.shardedFiles.keySet()) {
            assertArrayEquals(fixtures.shardedFiles.get(f), Files.readAllBytes(dir.resolve(f)), f);
        }
        assertTrue(server.requests("HEAD", "/pytorch_model.bin").isEmpty(), "stops at the first weights found");
        try (OptForCausalLM fromHub = OptForCausalLM.fromPretrained(dir);
             OptForCausalLM local = OptForCausalLM.fromPretrained(HubFixtures.PRELN)) {
            assertArrayEquals(HubFixtures.lastLogits(local), HubFixtures.lastLogits(fromHub));
        }
    }

    @Test
    void aRevisionIsABranchOrACommit() throws Exception {
        HubClient hub = client();
        Path v1 = hub.download(RepoRef.parse(REPO + "@v1"), "config.json");
        assertArrayEquals(fixtures.configV1, Files.readAllBytes(v1));
        assertEquals(COMMIT_V1, Files.readString(storage(REPO).resolve("refs/v1")));
        assertArrayEquals(fixtures.configMain, Files.readAllBytes(hub.download(RepoRef.of(REPO), "config.json")));
        // A commit hash needs no request once cached...
        int before = server.requests.size();
        assertEquals(v1, hub.download(new RepoRef(REPO, COMMIT_V1), "config.json"));
        assertEquals(before, server.requests.size());
        // ...and is downloaded by its hash into a fresh cache.
        Path other = client(b -> b.cacheDir(tmp.resolve("other"))).download(new RepoRef(REPO, COMMIT_V1), "config.json");
        assertArrayEquals(fixtures.configV1, Files.readAllBytes(other));
        assertFalse(Files.exists(tmp.resolve("other/models--panopt-test--preln-tiny/refs")), "no ref for a commit");

        HubException e = assertThrows(HubException.class, () -> hub.download(RepoRef.parse(REPO + "@nope"), "config.json"));
        assertReason(Reason.REVISION_NOT_FOUND, 404, e);
    }

    @Test
    void missingFilesAndRepositoriesAreTheHubsErrors() throws Exception {
        HubClient hub = client();
        HubException e = assertThrows(HubException.class, () -> hub.download(RepoRef.of(REPO), "nope.json"));
        assertReason(Reason.ENTRY_NOT_FOUND, 404, e);
        assertTrue(Files.isRegularFile(storage(REPO).resolve(".no_exist").resolve(COMMIT_MAIN).resolve("nope.json")));
        assertTrue(hub.downloadIfPresent(RepoRef.of(REPO), "nope.json").isEmpty());
        int before = server.requests.size();
        assertTrue(hub.downloadIfPresent(new RepoRef(REPO, COMMIT_MAIN), "nope.json").isEmpty());
        assertEquals(before, server.requests.size(), "a recorded absence at a commit is not asked again");
        assertReason(Reason.ENTRY_NOT_FOUND, 0, assertThrows(HubException.class,
                () -> hub.download(new RepoRef(REPO, COMMIT_MAIN), "nope.json")));

        e = assertThrows(HubException.class, () -> hub.downloadModel(RepoRef.of("panopt-test/missing")));
        assertReason(Reason.REPOSITORY_NOT_FOUND, 401, e);
        assertTrue(e.getMessage().contains("no token was sent"), e.getMessage());
        assertFalse(Files.exists(storage("panopt-test/missing")), "nothing is cached of an unknown repository");

        server.commit("panopt-test/no-weights", COMMIT_V1, "main", Map.of("config.json", fixtures.configV1));
        e = assertThrows(HubException.class, () -> hub.downloadModel(RepoRef.of("panopt-test/no-weights")));
        assertReason(Reason.ENTRY_NOT_FOUND, 0, e);
        assertTrue(e.getMessage().contains("no weights"), e.getMessage());
    }

    @Test
    void gatedAndPrivateRepositoriesNeedTheTokenWhichNoOtherHostSees() throws Exception {
        server.commit("panopt-test/gated", COMMIT_MAIN, "main", fixtures.mainFiles).gated = true;
        server.commit("panopt-test/private", COMMIT_MAIN, "main", fixtures.mainFiles).privateRepo = true;
        HubException e = assertThrows(HubException.class, () -> client().downloadModel(RepoRef.of("panopt-test/gated")));
        assertReason(Reason.GATED_REPOSITORY, 401, e);
        e = assertThrows(HubException.class, () -> client().downloadModel(RepoRef.of("panopt-test/private")));
        assertReason(Reason.REPOSITORY_NOT_FOUND, 401, e);

        HubClient authed = client(b -> b.token(HubTestServer.TOKEN));
        server.requests.clear();
        Path dir = authed.downloadModel(RepoRef.of("panopt-test/gated"));
        assertArrayEquals(fixtures.weights, Files.readAllBytes(dir.resolve("model.safetensors")));
        authed.downloadModel(RepoRef.of("panopt-test/private"));
        String bearer = "Bearer " + HubTestServer.TOKEN;
        assertFalse(server.requests("GET", "/cdn/").isEmpty());
        for (HubTestServer.Request r : server.requests) {
            // the endpoint (resolve, and the relative redirect to resolve-cache) gets the token; the CDN never does
            assertEquals(r.path().startsWith("/cdn/") ? null : bearer, r.authorization(), r.toString());
        }

        assertReason(Reason.REPOSITORY_NOT_FOUND, 404, assertThrows(HubException.class,
                () -> authed.downloadModel(RepoRef.of("panopt-test/missing"))));

        // (with the files cached, a refused HEAD falls back to the cache, as in huggingface_hub: use an empty one)
        HubClient wrong = client(b -> b.token("hf_wrong").cacheDir(tmp.resolve("empty")));
        e = assertThrows(HubException.class, () -> wrong.downloadModel(RepoRef.of("panopt-test/gated")));
        assertTrue(e.getMessage().contains("the token sent gives no access"), e.getMessage());
        assertFalse(e.getMessage().contains("hf_wrong"), e.getMessage());
        assertFalse(authed.options().toString().contains(HubTestServer.TOKEN));
        assertFalse(authed.toString().contains(HubTestServer.TOKEN));
    }

    @Test
    void offlineUsesOnlyTheCache() throws Exception {
        Path dir = client().downloadModel(RepoRef.of(REPO));
        int before = server.requests.size();
        HubClient offline = client(b -> b.offline(true));
        assertEquals(dir, offline.downloadModel(RepoRef.of(REPO)));
        assertEquals(dir, offline.downloadTokenizer(RepoRef.of(REPO)));
        assertTrue(offline.downloadIfPresent(RepoRef.of(REPO), "special_tokens_map.json").isEmpty());
        assertTrue(offline.downloadIfPresent(RepoRef.of(REPO), "never-seen.json").isEmpty());
        assertEquals(before, server.requests.size(), "offline sends nothing");

        HubClient empty = client(b -> b.offline(true).cacheDir(tmp.resolve("empty")));
        HubException e = assertThrows(HubException.class, () -> empty.downloadModel(RepoRef.of(REPO)));
        assertReason(Reason.NOT_CACHED, 0, e);
        assertTrue(e.getMessage().contains("offline"), e.getMessage());
        assertReason(Reason.NOT_CACHED, 0, assertThrows(HubException.class, () -> offline.download(RepoRef.of(REPO),
                "never-seen.json")));
        assertEquals(before, server.requests.size());
    }

    @Test
    void anUnreachableHubFallsBackToTheCachedRevision() throws Exception {
        Path dir = client().downloadModel(RepoRef.of(REPO));
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        String dead = "http://127.0.0.1:" + closedPort;
        assertEquals(dir, client(b -> b.endpoint(dead)).downloadModel(RepoRef.of(REPO)));

        HubException e = assertThrows(HubException.class,
                () -> client(b -> b.endpoint(dead).cacheDir(tmp.resolve("empty"))).downloadModel(RepoRef.of(REPO)));
        assertReason(Reason.NOT_CACHED, 0, e);
        assertInstanceOf(ConnectException.class, e.getCause(), String.valueOf(e.getCause()));
    }

    @Test
    void aCacheWrittenByPythonLoadsAsItIs() throws Exception {
        // huggingface_hub's layout, written here as Python writes it: blobs by ETag, relative symlinks, refs/main.
        Path storage = storage(REPO);
        Path snapshot = Files.createDirectories(storage.resolve("snapshots").resolve(COMMIT_MAIN));
        Files.createDirectories(storage.resolve("blobs"));
        Files.createDirectories(storage.resolve("refs"));
        Files.writeString(storage.resolve("refs/main"), COMMIT_MAIN);
        for (var f : fixtures.mainFiles.entrySet()) {
            String etag = HubTestServer.isLfs(f.getKey()) ? HubTestServer.sha256(f.getValue())
                    : HubTestServer.gitBlobId(f.getValue());
            Files.write(storage.resolve("blobs").resolve(etag), f.getValue());
            Files.createSymbolicLink(snapshot.resolve(f.getKey()), Path.of("../../blobs/" + etag));
        }
        assertEquals(snapshot, client(b -> b.offline(true)).downloadModel(RepoRef.of(REPO)));
        assertTrue(server.requests.isEmpty());
        assertEquals(snapshot, client().downloadModel(RepoRef.of(REPO)));
        assertTrue(server.requests("GET", "/").isEmpty(), "online, only HEADs: " + server.requests);
        try (OptForCausalLM lm = OptForCausalLM.fromPretrained(snapshot)) {
            assertEquals(1000, lm.config().vocabSize());
        }
    }

    @Test
    void aStringIsAPathWhenItExistsElseAModelId() throws Exception {
        HubClient hub = client();
        String local = HubFixtures.PRELN.toString();
        assertEquals(HubFixtures.PRELN, hub.resolveModel(local));
        assertEquals(HubFixtures.TOKENIZER, hub.resolveTokenizer(HubFixtures.TOKENIZER.toString()));
        assertTrue(server.requests.isEmpty());
        assertEquals(storage(REPO).resolve("snapshots").resolve(COMMIT_V1), hub.resolveModel(REPO + "@v1"));

        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> hub.resolveModel("/no/such/dir"));
        assertTrue(e.getMessage().contains("not a Hugging Face model id"), e.getMessage());
        HubException h = assertThrows(HubException.class, () -> hub.resolveModel("no-such-dir/opt"));
        assertTrue(h.getMessage().contains("nor is 'no-such-dir/opt' a local path"), h.getMessage());

        try (OptForCausalLM lm = OptForCausalLM.fromPretrained(local)) {
            assertEquals(1000, lm.config().vocabSize());
        }
        assertEquals(50265, OptTokenizer.fromPretrained(HubFixtures.TOKENIZER.toString()).vocabSize());
    }

    @Test
    void fromPretrainedWithAModelIdUsesTheEnvironmentsHub() throws Exception {
        // HubClient.shared() reads the process environment, so this runs in a child JVM given HF_ENDPOINT and HF_HUB_CACHE.
        ProcessBuilder pb = HubProcesses.java("load", REPO);
        pb.environment().put("HF_ENDPOINT", server.endpoint());
        pb.environment().put("HF_HUB_CACHE", cache.toString());
        HubProcesses.Result r = HubProcesses.run(pb);
        assertEquals(0, r.exit(), r.output());
        List<String> lines = r.stdout().lines().toList();
        assertEquals(java.util.Arrays.toString(OptTokenizer.fromPretrained(HubFixtures.TOKENIZER).encode("Hello world")),
                lines.get(0));
        try (OptForCausalLM local = OptForCausalLM.fromPretrained(HubFixtures.PRELN)) {
            float[] expected = HubFixtures.lastLogits(local);
            String[] got = lines.get(1).replaceAll("[\\[\\]]", "").split(", ");
            assertEquals(expected.length, got.length);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], Float.parseFloat(got[i]), 1e-5f, "logit " + i);
            }
        }
        assertTrue(Files.isSymbolicLink(storage(REPO).resolve("snapshots").resolve(COMMIT_MAIN).resolve("model.safetensors")));
    }

    @Test
    void fileNamesMustStayInsideTheRepository() throws IOException {
        HubClient hub = client();
        for (String bad : List.of("../config.json", "/etc/passwd", "a//b", "./x", "a/../../b", "c:\\x", "a\u0000b", "")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> hub.download(RepoRef.of(REPO), bad), bad);
            assertTrue(e.getMessage().startsWith("invalid file name"), e.getMessage());
        }
        assertTrue(server.requests.isEmpty());
    }
}
