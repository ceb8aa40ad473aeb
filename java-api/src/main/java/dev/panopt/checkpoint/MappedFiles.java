package dev.panopt.checkpoint;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Memory-mapping of whole weight files, shared by the checkpoint readers. */
final class MappedFiles {
    private MappedFiles() {}

    /** Maps all of {@code file} read-only; the mapping lives until {@code arena} is closed. */
    public static MemorySegment mapReadOnly(Path file, Arena arena) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        }
    }
}
