package dev.panopt.hub;

import dev.panopt.CausalLMOutput;
import dev.panopt.OptForCausalLM;
import dev.panopt.checkpoint.SafetensorsFile;
import dev.panopt.checkpoint.SafetensorsWriter;
import dev.panopt.checkpoint.TensorInfo;
import dev.panopt.internal.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The repositories the hub tests serve, made of the shared fixtures: {@code preln-tiny}'s config and
 * weights with OPT's tokenizer files, at two commits (branch {@code v1}: the fixture's config as it
 * is; {@code main}: the config with {@code _name_or_path} added), and the same weights split into two
 * safetensors shards.
 */
final class HubFixtures {
    static final Path FIXTURES = Path.of(System.getProperty("panopt.fixtures", "../conformance/fixtures"));
    static final Path PRELN = FIXTURES.resolve("cases/preln-tiny");
    static final Path TOKENIZER = FIXTURES.resolve("tokenizer");
    static final String REPO = "panopt-test/preln-tiny";
    static final String SHARDED = "panopt-test/preln-sharded";
    static final String COMMIT_V1 = HubTestServer.gitBlobId("commit v1".getBytes(StandardCharsets.UTF_8));
    static final String COMMIT_MAIN = HubTestServer.gitBlobId("commit main".getBytes(StandardCharsets.UTF_8));
    static final int[] IDS = {2, 10, 20, 30, 40};

    final byte[] configV1;
    final byte[] configMain;
    final byte[] weights;
    final Map<String, byte[]> mainFiles = new LinkedHashMap<>();
    final Map<String, byte[]> shardedFiles = new LinkedHashMap<>();

    HubFixtures(Path tmp) throws IOException {
        configV1 = Files.readAllBytes(PRELN.resolve("config.json"));
        configMain = new String(configV1, StandardCharsets.UTF_8).replaceFirst("\\{",
                "{\n  \"_name_or_path\": \"" + REPO + "\",").getBytes(StandardCharsets.UTF_8);
        weights = Files.readAllBytes(PRELN.resolve("model.safetensors"));
        mainFiles.put("config.json", configMain);
        mainFiles.put("model.safetensors", weights);
        mainFiles.put("vocab.json", Files.readAllBytes(TOKENIZER.resolve("vocab.json")));
        mainFiles.put("merges.txt", Files.readAllBytes(TOKENIZER.resolve("merges.txt")));
        mainFiles.put("tokenizer_config.json", "{\"add_bos_token\": true, \"pad_token\": \"<pad>\"}"
                .getBytes(StandardCharsets.UTF_8));
        shardedFiles.put("config.json", configV1);
        shardedFiles.putAll(shards(tmp));
    }

    /** Serves {@link #REPO} (main and v1) and {@link #SHARDED} (main). */
    void serve(HubTestServer server) {
        server.commit(REPO, COMMIT_V1, "v1", Map.of("config.json", configV1, "model.safetensors", weights));
        server.commit(REPO, COMMIT_MAIN, "main", mainFiles);
        server.commit(SHARDED, COMMIT_MAIN, "main", shardedFiles);
    }

    /** The fixture's tensors in two shards plus their index. */
    private static Map<String, byte[]> shards(Path tmp) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        Map<String, Object> weightMap = new LinkedHashMap<>();
        String[] names = {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"};
        SafetensorsWriter[] writers = {new SafetensorsWriter(), new SafetensorsWriter()};
        try (SafetensorsFile f = SafetensorsFile.open(PRELN.resolve("model.safetensors"))) {
            int i = 0;
            for (String n : f.names()) {
                TensorInfo t = f.info(n);
                writers[i % 2].add(n, t.dtype(), t.shape(), f.data(n));
                weightMap.put(n, names[i % 2]);
                i++;
            }
            for (int s = 0; s < 2; s++) {
                Path p = tmp.resolve(names[s]);
                writers[s].write(p);
                out.put(names[s], Files.readAllBytes(p));
                Files.delete(p);
            }
        }
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("metadata", Map.of("total_size", 0L));
        index.put("weight_map", weightMap);
        out.put("model.safetensors.index.json", Json.write(index, true).getBytes(StandardCharsets.UTF_8));
        return out;
    }

    /** The last position's logits of {@link #IDS}. */
    static float[] lastLogits(OptForCausalLM lm) {
        try (CausalLMOutput out = lm.forward(IDS)) {
            return out.logits().row(0, IDS.length - 1);
        }
    }
}
