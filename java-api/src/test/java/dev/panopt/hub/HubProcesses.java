package dev.panopt.hub;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Starts {@link HubChild} in another JVM with this one's class path and no inherited {@code HF_*} variables. */
final class HubProcesses {
    record Result(int exit, String stdout, String stderr) {
        String output() {
            return "stdout:\n" + stdout + "\nstderr:\n" + stderr;
        }
    }

    private HubProcesses() {}

    static ProcessBuilder java(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-Dpanopt.threads=1", "-cp",
                System.getProperty("java.class.path"), HubChild.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("HF_") || k.startsWith("HUGGING") || k.equals("TRANSFORMERS_OFFLINE"));
        return pb;
    }

    static Process start(ProcessBuilder pb, Path dir) throws IOException {
        pb.redirectOutput(dir.resolve("child.out").toFile());
        pb.redirectError(dir.resolve("child.err").toFile());
        return pb.start();
    }

    static Result await(Process p, Path dir) throws IOException, InterruptedException {
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the child JVM did not finish in 120 s");
        }
        return new Result(p.exitValue(), Files.readString(dir.resolve("child.out"), StandardCharsets.UTF_8),
                Files.readString(dir.resolve("child.err"), StandardCharsets.UTF_8));
    }

    static Result run(ProcessBuilder pb) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("hub-child");
        try {
            return await(start(pb, dir), dir);
        } finally {
            for (String f : List.of("child.out", "child.err")) {
                Files.deleteIfExists(dir.resolve(f));
            }
            Files.deleteIfExists(dir);
        }
    }
}
