package dev.panopt;

import java.util.Locale;
import java.util.Objects;

/**
 * The device a {@link Backend} computes on: the CPU ({@link #cpu()}, the default) or an NVIDIA GPU
 * through CUDA ({@link #cuda(int)}), named as PyTorch names them ({@code "cpu"}, {@code "cuda:0"}).
 *
 * <p>A CUDA device needs the NVIDIA driver (580 or newer) and a GPU of compute capability 8.0 or
 * newer (A100, H100, RTX 30xx and later); the CUDA runtime is inside Panopt's native CUDA library,
 * which is loaded only when a CUDA backend is created. Where any of that is missing, creating the
 * backend throws {@link UnsupportedOperationException} naming what is missing, and everything on
 * the CPU works as before.
 *
 * <p>Thread-safety: an immutable value.
 *
 * @param kind  CPU or CUDA
 * @param index the device ordinal among the visible CUDA devices (as {@code CUDA_VISIBLE_DEVICES}
 *              numbers them); 0 for the CPU
 */
public record Device(Kind kind, int index) {
    /** Kinds of device. */
    public enum Kind {
        /** The CPU: Panopt's CPU kernels and worker pool. */
        CPU,
        /** An NVIDIA GPU, through CUDA. */
        CUDA
    }

    private static final Device CPU = new Device(Kind.CPU, 0);

    /**
     * Checks the values.
     *
     * @throws NullPointerException     if kind is null
     * @throws IllegalArgumentException if index is negative, or not 0 for the CPU
     */
    public Device {
        Objects.requireNonNull(kind, "kind");
        if (index < 0) {
            throw new IllegalArgumentException("device index must be >= 0, got " + index);
        }
        if (kind == Kind.CPU && index != 0) {
            throw new IllegalArgumentException("the CPU is device 0, not " + index);
        }
    }

    /** {@return the CPU} */
    public static Device cpu() {
        return CPU;
    }

    /**
     * The CUDA device of this ordinal.
     *
     * @param index the ordinal among the visible CUDA devices, from 0
     * @return the device
     * @throws IllegalArgumentException if index is negative
     */
    public static Device cuda(int index) {
        return new Device(Kind.CUDA, index);
    }

    /**
     * Parses PyTorch's device names: {@code cpu}, {@code cuda} (device 0) or {@code cuda:N}
     * (case-insensitive).
     *
     * @param name the name
     * @return the device
     * @throws IllegalArgumentException if name is none of these
     */
    public static Device parse(String name) {
        String n = Objects.requireNonNull(name, "name").trim().toLowerCase(Locale.ROOT);
        if (n.equals("cpu")) {
            return CPU;
        }
        if (n.equals("cuda")) {
            return cuda(0);
        }
        if (n.startsWith("cuda:")) {
            String idx = n.substring(5);
            if (!idx.isEmpty() && idx.chars().allMatch(c -> c >= '0' && c <= '9') && idx.length() <= 9) {
                return cuda(Integer.parseInt(idx));
            }
        }
        throw new IllegalArgumentException("a device is cpu, cuda or cuda:N, not '" + name + "'");
    }

    /** {@return the name {@link #parse} reads: {@code cpu} or {@code cuda:N}} */
    @Override
    public String toString() {
        return kind == Kind.CPU ? "cpu" : "cuda:" + index;
    }
}
