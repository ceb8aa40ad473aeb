package dev.panopt.checkpoint;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Set;

/**
 * One opened, validated weight file of a checkpoint: a safetensors file or a PyTorch zip
 * checkpoint ({@code pytorch_model.bin}), behind one interface so {@code Checkpoint} treats both alike.
 *
 * <p>Implementations own their mapping; segments from {@link #data} stay valid until {@link #close()}.
 * Read methods must be safe to call concurrently.
 */
interface TensorSource extends AutoCloseable {
    /** The file these tensors come from. */
    Path file();

    /** Names of the tensors as stored in the file. */
    Set<String> names();

    /** Header information of a tensor listed by {@link #names()}. */
    TensorInfo info(String name);

    /** Read-only bytes of a tensor listed by {@link #names()} (little-endian, row-major, alignment 1). */
    MemorySegment data(String name);

    @Override
    void close() throws IOException;
}
