/**
 * Panopt on Apache Spark: generation, classification, scoring and question answering over
 * DataFrames, with one model per executor shared by its tasks.
 *
 * <ul>
 *   <li>{@link dev.panopt.spark.PanoptTransformer}: the DataFrame operation, options by name;
 *   <li>{@link dev.panopt.spark.PanoptFunctions}: the same tasks as SQL functions;
 *   <li>{@link dev.panopt.spark.PanoptPlugin}: closes an executor's models when it stops;
 *   <li>{@link dev.panopt.spark.ModelLoadsAccumulator} and {@link dev.panopt.spark.ModelLoad}: which
 *       executors loaded a model, and how long it took.
 * </ul>
 *
 * <p>Spark (4.2 or newer, Scala 2.13) is a provided dependency: the cluster brings it. Executors need
 * the Panopt jars ({@code panopt-spark}, {@code panopt}, {@code panopt-bindings}) on their class path,
 * e.g. through {@code spark-submit --jars}, and native access, which Spark grants its executors.
 */
package dev.panopt.spark;
