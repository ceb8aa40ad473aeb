package dev.panopt.hub;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.panopt.fuzz.Fuzz;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Fuzzes what the hub client reads that others wrote: a cache's {@code refs/main} and a snapshot's
 * sharded index (whose shard names become paths), read by an offline {@link HubClient#downloadModel},
 * which gives a snapshot directory or a {@link HubException} / {@link IOException}; and names (a model
 * id with revision, a file name) that become cache paths, which either are rejected or stay inside
 * their directory. Sections of one input (see {@link Fuzz#sections}): {@code refs} (the content of
 * {@code refs/main}), {@code index} ({@code model.safetensors.index.json}), {@code name}.
 */
class HubCacheFuzzTest {
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    @FuzzTest
    @DictionaryEntries({Fuzz.SECTION + "refs" + Fuzz.NAME_END, Fuzz.SECTION + "index" + Fuzz.NAME_END,
            Fuzz.SECTION + "name" + Fuzz.NAME_END, COMMIT, "\"weight_map\"", "\"../x.safetensors\"", "..", "/", "@",
            "--", ".git", "refs/pr/1", "\\", ":"})
    void cache(byte[] data) throws IOException {
        Map<String, byte[]> in = Fuzz.sections(data);
        Path root = Files.createTempDirectory("panopt-hub-fuzz");
        try {
            Path storage = root.resolve("models--f--m");
            Path snapshot = Files.createDirectories(storage.resolve("snapshots").resolve(COMMIT));
            Files.createDirectories(storage.resolve("refs"));
            Files.write(storage.resolve("refs/main"), in.getOrDefault("refs", COMMIT.getBytes(StandardCharsets.US_ASCII)));
            Files.writeString(snapshot.resolve("config.json"), "{}");
            if (in.containsKey("index")) {
                Files.write(snapshot.resolve("model.safetensors.index.json"), in.get("index"));
            }
            HubClient hub = HubClient.create(HubOptions.builder(Map.of()).cacheDir(root).offline(true).build());
            Fuzz.expect(data.length, () -> {
                Path dir = hub.downloadModel(RepoRef.of("f/m"));
                if (!dir.equals(snapshot)) {
                    throw new AssertionError("snapshot " + dir + ", expected " + snapshot);
                }
            }, HubException.class, IOException.class);
            String name = new String(in.getOrDefault("name", new byte[0]), StandardCharsets.UTF_8);
            Fuzz.expect(data.length, () -> checkName(name, root), IllegalArgumentException.class);
        } finally {
            deleteTree(root);
        }
    }

    /** A name that passes the checks stays inside the directory it names a file of. */
    private static void checkName(String name, Path root) throws HubException {
        RepoRef.tryParse(name).ifPresent(ref -> {
            HubCache cache = new HubCache(root);
            Path refs = cache.storage(ref).resolve("refs");
            if (!cache.storage(ref).getParent().equals(root) || !refs.resolve(ref.revision()).normalize().startsWith(refs)) {
                throw new AssertionError("'" + name + "' leaves the cache: " + refs.resolve(ref.revision()));
            }
        });
        Path snapshot = new HubCache(root).pointer(RepoRef.of("f/m"), COMMIT, "x").getParent();
        Path p = new HubCache(root).pointer(RepoRef.of("f/m"), COMMIT, HubCache.checkFilename(name)).normalize();
        if (!p.startsWith(snapshot) || p.equals(snapshot)) {
            throw new AssertionError("'" + name + "' leaves the snapshot: " + p);
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
