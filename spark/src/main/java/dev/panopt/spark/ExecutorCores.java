package dev.panopt.spark;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;

/**
 * How many task cores this executor has: the default number of native threads of its model, one
 * per core its task slots use, so the model's thread pool and Spark's task slots do not
 * oversubscribe the cores (the native pool's default would be every CPU of the machine, which
 * several executors on one node would each take).
 */
final class ExecutorCores {
    private static final Pattern LOCAL = Pattern.compile("local\\[(\\*|\\d+)(?:,\\s*\\d+)?]");
    private static final Pattern LOCAL_CLUSTER = Pattern.compile("local-cluster\\[\\s*\\d+\\s*,\\s*(\\d+)\\s*,.*]");

    private ExecutorCores() {}

    /**
     * {@code spark.executor.cores} when the application sets it; in local mode the master's thread
     * count ({@code local[N]}, {@code local[*]}, {@code local-cluster[n, cores, mem]}); otherwise
     * the machine's processors (a standalone executor without {@code spark.executor.cores} takes
     * all cores of its worker).
     */
    static int get() {
        SparkEnv env = SparkEnv.get();
        return env == null ? Runtime.getRuntime().availableProcessors() : of(env.conf());
    }

    static int of(SparkConf conf) {
        if (conf.contains("spark.executor.cores")) {
            return Math.max(1, conf.getInt("spark.executor.cores", 1));
        }
        String master = conf.get("spark.master", "").strip();
        if (master.equals("local")) {
            return 1;
        }
        Matcher m = LOCAL.matcher(master);
        if (m.matches()) {
            return m.group(1).equals("*") ? Runtime.getRuntime().availableProcessors() : Math.max(1, Integer.parseInt(m.group(1)));
        }
        m = LOCAL_CLUSTER.matcher(master);
        if (m.matches()) {
            return Math.max(1, Integer.parseInt(m.group(1)));
        }
        return Runtime.getRuntime().availableProcessors();
    }
}
