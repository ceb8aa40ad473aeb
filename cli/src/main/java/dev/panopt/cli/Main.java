package dev.panopt.cli;

import java.io.IOException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code panopt} command: generate, score, classify, qa, tokenize, info, convert, bench. User mistakes (a
 * missing file, a bad flag, a malformed checkpoint) print one line and exit non-zero, never a
 * stack trace; {@code --debug} shows the trace.
 */
@Command(name = "panopt", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Run OPT models (facebook/opt-*) from the command line.",
        subcommands = {GenerateCommand.class, ScoreCommand.class, ClassifyCommand.class, QaCommand.class, TokenizeCommand.class,
                InfoCommand.class, ConvertCommand.class, BenchCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line; returns the exit code (0 ok, 1 failure, 2 usage error). */
    static int run(String[] args, PrintWriter out, PrintWriter err) {
        return run(args, out, err, System.getenv());
    }

    /** Runs the command line with {@code environment} in place of the process's variables (the HF_* settings). */
    static int run(String[] args, PrintWriter out, PrintWriter err, java.util.Map<String, String> environment) {
        CommandLine.IFactory defaults = CommandLine.defaultFactory();
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                return cls == Common.class ? cls.cast(new Common(environment)) : defaults.create(cls);
            }
        };
        CommandLine cl = new CommandLine(new Main(), factory);
        cl.setOut(out);
        cl.setErr(err);
        boolean debug = java.util.Arrays.asList(args).contains("--debug");
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("panopt: " + ex.getMessage());
            err.println("Try 'panopt " + (ex.getCommandLine() == cl ? "" : ex.getCommandLine().getCommandName() + " ")
                    + "--help'.");
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            if (debug) {
                ex.printStackTrace(err);
            }
            err.println("panopt: " + describe(ex));
            return 1;
        });
        return cl.execute(args);
    }

    static String describe(Throwable ex) {
        if (ex instanceof java.nio.file.NoSuchFileException n) {
            return "no such file: " + n.getFile();
        }
        if (ex instanceof java.nio.file.AccessDeniedException a) {
            return "permission denied: " + a.getFile();
        }
        if (ex instanceof IOException || ex instanceof IllegalArgumentException || ex instanceof IllegalStateException
                || ex instanceof UnsupportedOperationException) {
            return ex.getMessage() == null ? ex.toString() : ex.getMessage();
        }
        return ex.toString();
    }

    /** Version of the CLI and of the native library. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"panopt " + version(),
                    "libpanopt " + dev.panopt.Panopt.nativeVersion() + " (" + dev.panopt.Panopt.bestIsa() + ")"};
        }

        /** The build's version, from version.properties (filtered by Maven; also there when run from classes/). */
        static String version() {
            try (var in = Main.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    var p = new java.util.Properties();
                    p.load(in);
                    String v = p.getProperty("version", "");
                    if (!v.isEmpty() && !v.startsWith("${")) {
                        return v;
                    }
                }
            } catch (IOException e) {
                // fall through to the manifest
            }
            String v = Main.class.getPackage().getImplementationVersion();
            return v != null ? v : "(unknown version)";
        }
    }
}
