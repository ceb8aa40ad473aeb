package dev.panopt.spark;

import java.util.Map;

/** Java values as Spark's row encoders take them. */
final class SparkValues {
    private SparkValues() {}

    /** A Spark {@code MapType} value: a Scala map, in the Java map's iteration order. */
    static scala.collection.Map<String, Double> map(Map<String, Double> m) {
        return scala.jdk.javaapi.CollectionConverters.asScala(m);
    }
}
