package dev.panopt.bench;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * ggml's own GGUF reader ({@code gguf_init_from_file} and its getters, gguf.h) in the {@code libjllama.so} of
 * de.kherud:llama 4.2.0 (llama.cpp build b4916, ggml linked in statically), called through FFM, so tests can
 * check that ggml reads Panopt's files as Panopt does. Tensor shapes come from the {@code ggml_context} the
 * reader fills (no data allocated): {@code ne} sits at byte 16 of {@code struct ggml_tensor} (after the
 * {@code type} enum and the {@code buffer} pointer), checked against {@code ggml_nelements} for every tensor.
 */
final class GgmlGguf {
    private GgmlGguf() {}

    private static final Linker L = Linker.nativeLinker();
    private static final SymbolLookup LIB = SymbolLookup.libraryLookup(LlamaCpp.extract(), Arena.global());
    /** struct gguf_init_params { bool no_alloc; struct ggml_context ** ctx; } */
    private static final StructLayout INIT_PARAMS = MemoryLayout.structLayout(JAVA_BOOLEAN.withName("no_alloc"),
            MemoryLayout.paddingLayout(7), ADDRESS.withName("ctx"));
    private static final long NE_OFFSET = 16;

    private static MethodHandle h(String name, FunctionDescriptor d) {
        return L.downcallHandle(LIB.find(name).orElseThrow(() -> new UnsatisfiedLinkError(name)), d);
    }

    private static final MethodHandle INIT = h("gguf_init_from_file", FunctionDescriptor.of(ADDRESS, ADDRESS, INIT_PARAMS));
    private static final MethodHandle FREE = h("gguf_free", FunctionDescriptor.ofVoid(ADDRESS));
    private static final MethodHandle VERSION = h("gguf_get_version", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle ALIGNMENT = h("gguf_get_alignment", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    private static final MethodHandle DATA_OFFSET = h("gguf_get_data_offset", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    private static final MethodHandle N_KV = h("gguf_get_n_kv", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    private static final MethodHandle KEY = h("gguf_get_key", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle KV_TYPE = h("gguf_get_kv_type", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle ARR_TYPE = h("gguf_get_arr_type", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle ARR_N = h("gguf_get_arr_n", FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG));
    private static final MethodHandle ARR_DATA = h("gguf_get_arr_data", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle ARR_STR = h("gguf_get_arr_str",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle VAL_DATA = h("gguf_get_val_data", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle VAL_STR = h("gguf_get_val_str", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle N_TENSORS = h("gguf_get_n_tensors", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    private static final MethodHandle TENSOR_NAME = h("gguf_get_tensor_name",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle TENSOR_TYPE = h("gguf_get_tensor_type",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle TENSOR_OFFSET = h("gguf_get_tensor_offset",
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG));
    private static final MethodHandle TENSOR_SIZE = h("gguf_get_tensor_size",
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG));
    private static final MethodHandle GET_TENSOR = h("ggml_get_tensor", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle NELEMENTS = h("ggml_nelements", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    private static final MethodHandle GGML_FREE = h("ggml_free", FunctionDescriptor.ofVoid(ADDRESS));
    private static final MethodHandle TYPE_SIZE = h("ggml_type_size", FunctionDescriptor.of(JAVA_LONG, JAVA_INT));
    private static final MethodHandle BLCK_SIZE = h("ggml_blck_size", FunctionDescriptor.of(JAVA_LONG, JAVA_INT));
    private static final MethodHandle TYPE_NAME = h("ggml_type_name", FunctionDescriptor.of(ADDRESS, JAVA_INT));

    /** One metadata entry as a reader sees it: key, type id, element type id and count (arrays), value as text. */
    record Kv(String key, int type, int elementType, long count, String value) {}

    /** One tensor as a reader sees it: name, ggml type id, ne (4 dims, innermost first), offset in the data section, bytes. */
    record Tensor(String name, int type, List<Long> ne, long offset, long size) {}

    /** A whole file as a reader sees it. */
    record Listing(int version, long alignment, long dataOffset, List<Kv> kvs, List<Tensor> tensors) {}

    static long typeSize(int type) throws Throwable {
        return (long) TYPE_SIZE.invokeExact(type);
    }

    static long blockSize(int type) throws Throwable {
        return (long) BLCK_SIZE.invokeExact(type);
    }

    static String typeName(int type) throws Throwable {
        return string((MemorySegment) TYPE_NAME.invokeExact(type));
    }

    private static String string(MemorySegment p) {
        return p.reinterpret(Long.MAX_VALUE).getString(0);
    }

    /**
     * Reads {@code file} with ggml's reader.
     *
     * @throws IllegalStateException if ggml rejects the file ({@code gguf_init_from_file} returns NULL)
     */
    static Listing read(Path file) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ctxOut = arena.allocate(ADDRESS);
            MemorySegment params = arena.allocate(INIT_PARAMS);
            params.set(JAVA_BOOLEAN, 0, true);
            params.set(ADDRESS, INIT_PARAMS.byteOffset(MemoryLayout.PathElement.groupElement("ctx")), ctxOut);
            MemorySegment g = (MemorySegment) INIT.invokeExact(arena.allocateFrom(file.toString()), params);
            if (g.equals(MemorySegment.NULL)) {
                throw new IllegalStateException("ggml's gguf_init_from_file rejected " + file);
            }
            MemorySegment ggml = ctxOut.get(ADDRESS, 0);
            try {
                List<Kv> kvs = new ArrayList<>();
                long nKv = (long) N_KV.invokeExact(g);
                for (long i = 0; i < nKv; i++) {
                    String key = string((MemorySegment) KEY.invokeExact(g, i));
                    int type = (int) KV_TYPE.invokeExact(g, i);
                    if (type == 9) {
                        int et = (int) ARR_TYPE.invokeExact(g, i);
                        long n = (long) ARR_N.invokeExact(g, i);
                        String v;
                        if (et == 8) {
                            List<String> s = new ArrayList<>();
                            for (long j = 0; j < n; j++) {
                                s.add(string((MemorySegment) ARR_STR.invokeExact(g, i, j)));
                            }
                            v = String.join("\u0000", s);
                        } else {
                            MemorySegment data = ((MemorySegment) ARR_DATA.invokeExact(g, i)).reinterpret(n * 8 + 8);
                            List<String> s = new ArrayList<>();
                            for (long j = 0; j < n; j++) {
                                s.add(fixed(data, j, et));
                            }
                            v = s.toString();
                        }
                        kvs.add(new Kv(key, type, et, n, v));
                    } else if (type == 8) {
                        kvs.add(new Kv(key, type, -1, 1, string((MemorySegment) VAL_STR.invokeExact(g, i))));
                    } else {
                        MemorySegment data = ((MemorySegment) VAL_DATA.invokeExact(g, i)).reinterpret(8);
                        kvs.add(new Kv(key, type, -1, 1, fixed(data, 0, type)));
                    }
                }
                List<Tensor> tensors = new ArrayList<>();
                long nT = (long) N_TENSORS.invokeExact(g);
                for (long i = 0; i < nT; i++) {
                    String name = string((MemorySegment) TENSOR_NAME.invokeExact(g, i));
                    MemorySegment t = ((MemorySegment) GET_TENSOR.invokeExact(ggml, arena.allocateFrom(name)))
                            .reinterpret(NE_OFFSET + 32);
                    Long[] ne = new Long[4];
                    long product = 1;
                    for (int d = 0; d < 4; d++) {
                        ne[d] = t.get(JAVA_LONG_UNALIGNED, NE_OFFSET + 8L * d);
                        product *= ne[d];
                    }
                    long nelements = (long) NELEMENTS.invokeExact(t);
                    if (product != nelements) {
                        throw new IllegalStateException("struct ggml_tensor layout mismatch: ne " + Arrays.toString(ne)
                                + " vs ggml_nelements " + nelements);
                    }
                    tensors.add(new Tensor(name, (int) TENSOR_TYPE.invokeExact(g, i), List.of(ne),
                            (long) TENSOR_OFFSET.invokeExact(g, i), (long) TENSOR_SIZE.invokeExact(g, i)));
                }
                return new Listing((int) VERSION.invokeExact(g), (long) ALIGNMENT.invokeExact(g),
                        (long) DATA_OFFSET.invokeExact(g), kvs, tensors);
            } finally {
                FREE.invokeExact(g);
                if (!ggml.equals(MemorySegment.NULL)) {
                    GGML_FREE.invokeExact(ggml);
                }
            }
        }
    }

    /** Element {@code j} of a fixed-size GGUF type at {@code data}, as text. */
    static String fixed(MemorySegment data, long j, int type) {
        return switch (type) {
            case 0 -> Integer.toString(data.get(JAVA_BYTE, j) & 0xff);
            case 1 -> Byte.toString(data.get(JAVA_BYTE, j));
            case 2 -> Integer.toString(data.getAtIndex(JAVA_SHORT_UNALIGNED, j) & 0xffff);
            case 3 -> Short.toString(data.getAtIndex(JAVA_SHORT_UNALIGNED, j));
            case 4 -> Long.toString(data.getAtIndex(JAVA_INT_UNALIGNED, j) & 0xffff_ffffL);
            case 5 -> Integer.toString(data.getAtIndex(JAVA_INT_UNALIGNED, j));
            case 6 -> Float.toString(data.getAtIndex(JAVA_FLOAT_UNALIGNED, j));
            case 7 -> Boolean.toString(data.get(JAVA_BYTE, j) != 0);
            case 10 -> Long.toUnsignedString(data.getAtIndex(JAVA_LONG_UNALIGNED, j));
            case 11 -> Long.toString(data.getAtIndex(JAVA_LONG_UNALIGNED, j));
            case 12 -> Double.toString(data.getAtIndex(JAVA_DOUBLE_UNALIGNED, j));
            default -> throw new IllegalArgumentException("not a fixed-size GGUF type: " + type);
        };
    }
}
