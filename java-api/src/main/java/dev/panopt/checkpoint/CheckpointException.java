package dev.panopt.checkpoint;

import dev.panopt.Nullable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
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
    /** The tensor the message names, or null when none is involved. */
    private final String tensor;

    /**
     * Message {@code "<file>: <problem>"}.
     *
     * @param file    the file or directory at fault
     * @param problem what is wrong with it
     */
    public CheckpointException(Path file, String problem) {
        this(file, null, problem, null);
    }

    /**
     * Message {@code "<file>: <problem>"}, with a cause.
     *
     * @param file    the file or directory at fault
     * @param problem what is wrong with it
     * @param cause   the underlying exception, or null
     */
    public CheckpointException(Path file, String problem, @Nullable Throwable cause) {
        this(file, null, problem, cause);
    }

    /**
     * Message {@code "<file>: tensor <tensor>: <problem>"} (or without the tensor part when it is null).
     *
     * @param file    the file or directory at fault
     * @param tensor  the tensor involved, or null
     * @param problem what is wrong
     * @param cause   the underlying exception, or null
     */
    public CheckpointException(Path file, @Nullable String tensor, String problem, @Nullable Throwable cause) {
        super(Objects.requireNonNull(file, "file") + ": " + (tensor == null ? "" : "tensor " + tensor + ": ") + problem, cause);
        Objects.requireNonNull(problem, "problem");
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

    /**
     * The file or directory at fault.
     *
     * @return the path the message names; null after deserialization (the path is not serialized)
     */
    public Path file() {
        return file;
    }

    /** {@return the tensor involved, if any} */
    public Optional<String> tensor() {
        return Optional.ofNullable(tensor);
    }
}
