package dev.panopt.hub;

import dev.panopt.OptForCausalLM;
import dev.panopt.tokenizer.OptTokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * The other process of the hub tests (started with this JVM's class path):
 * {@code download ENDPOINT CACHE REPO FILE} prints the path {@link HubClient#download} returns;
 * {@code load ID} loads {@code OptForCausalLM.fromPretrained(ID)} and {@code OptTokenizer.fromPretrained(ID)},
 * configured by the environment, and prints the tokenizer's ids of "Hello world" and the last logits
 * of {@link HubFixtures#IDS}.
 */
public final class HubChild {
    private HubChild() {}

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "download" -> {
                HubOptions o = HubOptions.builder(Map.of()).endpoint(args[1]).cacheDir(Path.of(args[2])).build();
                try (HubClient c = HubClient.create(o)) {
                    System.out.println(c.download(RepoRef.parse(args[3]), args[4]));
                }
            }
            case "load" -> {
                System.out.println(Arrays.toString(OptTokenizer.fromPretrained(args[1]).encode("Hello world")));
                try (OptForCausalLM lm = OptForCausalLM.fromPretrained(args[1])) {
                    System.out.println(Arrays.toString(HubFixtures.lastLogits(lm)));
                }
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
    }
}
