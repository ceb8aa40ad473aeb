package dev.panopt.hub;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** A fresh test hub and cache directory per test; clients made here are closed after it. */
abstract class HubTestBase {
    static HubFixtures fixtures;

    @TempDir
    static Path classTmp;
    @TempDir
    Path tmp;
    HubTestServer server;
    Path cache;
    private final List<HubClient> clients = new ArrayList<>();

    @BeforeAll
    static void makeFixtures() throws IOException {
        fixtures = new HubFixtures(classTmp);
    }

    @BeforeEach
    void startServer() throws IOException {
        server = new HubTestServer();
        fixtures.serve(server);
        cache = tmp.resolve("hub");
    }

    @AfterEach
    void stop() {
        clients.forEach(HubClient::close);
        server.close();
    }

    /** A client of the test hub and cache, no token, short timeouts, then {@code f}'s changes. */
    HubClient client(UnaryOperator<HubOptions.Builder> f) {
        HubOptions.Builder b = HubOptions.builder(Map.of()).endpoint(server.endpoint()).cacheDir(cache)
                .downloadTimeout(java.time.Duration.ofSeconds(5));
        HubClient c = HubClient.create(f.apply(b).build());
        clients.add(c);
        return c;
    }

    HubClient client() {
        return client(b -> b);
    }

    Path storage(String repo) {
        return cache.resolve("models--" + repo.replace("/", "--"));
    }
}
