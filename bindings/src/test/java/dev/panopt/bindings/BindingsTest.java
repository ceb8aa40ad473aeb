package dev.panopt.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class BindingsTest {
    @Test
    void everyGeneratedLayoutHasTheLibrarysSize() {
        Native.ensureLoaded(); // throws UnsatisfiedLinkError on any mismatch
        try (Arena arena = Arena.ofConfined()) {
            for (var layout : PanoptH.STRUCTS) {
                assertEquals(layout.byteSize(), panopt_struct_size.invoke(arena.allocateFrom(layout.name().orElseThrow())),
                        layout.toString());
            }
            assertEquals(-1, panopt_struct_size.invoke(arena.allocateFrom("panopt_nothing")));
        }
        assertEquals(5, PanoptH.STRUCTS.size());
    }

    @Test
    void dtypeTableComesFromTheHeaderList() {
        assertEquals(13, PanoptH.DTYPE_COUNT);
        assertEquals("BF16", PanoptH.dtypeName(PanoptH.DTYPE_BF16));
        assertEquals("Q4_K", PanoptH.dtypeName(PanoptH.DTYPE_Q4_K));
        assertEquals(144, PanoptH.dtypeBlockBytes(PanoptH.DTYPE_Q4_K));
        assertEquals(256, PanoptH.dtypeBlockElems(PanoptH.DTYPE_Q6_K));
        assertEquals(4, PanoptH.dtypeBlockBytes(PanoptH.DTYPE_F32));
        assertEquals(1, PanoptH.dtypeBlockElems(PanoptH.DTYPE_F16));
    }

    @Test
    void loadsTheBundledLibrary() {
        Native.ensureLoaded();
        assertFalse(Native.version().isEmpty());
        assertTrue(NativeLibrary.path().toString().endsWith("libpanopt.so"));
        int isa = Native.cpuIsa();
        assertTrue(isa >= PanoptH.ISA_SCALAR && isa <= PanoptH.ISA_NEON, "isa " + isa);
    }

    @Test
    void statusCodesBecomeExceptionsWithTheNativeMessage() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            int status = panopt_model_create.invoke(MemorySegment.NULL, MemorySegment.NULL, out);
            assertEquals(PanoptH.ERR_INVALID_ARGUMENT, status);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Native.check(status, "panopt_model_create"));
            assertTrue(e.getMessage().startsWith("panopt_model_create: "), e.getMessage());
            assertTrue(e.getMessage().length() > "panopt_model_create: ".length(), "native message missing");
        }
        assertThrows(IllegalStateException.class, () -> Native.check(PanoptH.ERR_STATE, "x"));
        assertThrows(IllegalStateException.class, () -> Native.check(PanoptH.ERR_CAPACITY, "x"));
        assertThrows(UnsupportedOperationException.class, () -> Native.check(PanoptH.ERR_UNSUPPORTED, "x"));
        assertThrows(OutOfMemoryError.class, () -> Native.check(PanoptH.ERR_OUT_OF_MEMORY, "x"));
        Native.check(PanoptH.OK, "x");
    }

    @Test
    void freeingNullIsANoOp() {
        assertEquals(PanoptH.OK, panopt_model_free.invoke(MemorySegment.NULL));
    }
}
