package dev.panopt.checkpoint;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A checkpoint file or directory is malformed, incomplete or does not match its configuration.
 * The message always names the file (or directory) and, where one is involved, the tensor.
 *
 * <p>Immutable after construction (as exceptions are); safe to pass between threads.
 */
public class CheckpointException extends IOException {
    private static final long serialVersionUID = 1L;

    /** Not serialized: {@link Path} is not serializable; the message carries it anyway. */
    private final transient Path file;
    private final String tensor;

    /** Message {@code "<file>: <problem>"}. */
    public CheckpointException(Path file, String problem) {
        this(file, null, problem, null);
    }

    /** Message {@code "<file>: <problem>"}, with a cause. */
    public CheckpointException(Path file, String problem, Throwable cause) {
        this(file, null, problem, cause);
    }

    /**
     * Message {@code "<file>: tensor <tensor>: <problem>"} (or without the tensor part when it is null).
     */
    public CheckpointException(Path file, String tensor, String problem, Throwable cause) {
        super(file + ": " + (tensor == null ? "" : "tensor " + tensor + ": ") + problem, cause);
        this.file = file;
        this.tensor = tensor;
    }

    /**
     * Uses {@code message} verbatim; the caller guarantees it names {@code file} (and the tensor).
     */
    static CheckpointException verbatim(String message, Path file, String tensor) {
        return new CheckpointException(message, file, tensor);
    }

    private CheckpointException(String message, Path file, String tensor) {
        super(message);
        this.file = file;
        this.tensor = tensor;
    }

    /** The file or directory at fault. */
    public Path file() {
        return file;
    }

    /** The tensor involved, if any. */
    public Optional<String> tensor() {
        return Optional.ofNullable(tensor);
    }
}
