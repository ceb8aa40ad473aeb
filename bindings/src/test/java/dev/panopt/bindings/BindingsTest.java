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
    void structLayoutsMatchTheStaticAssertsOfApiCpp() {
        assertEquals(64, Structs.CONFIG.byteSize());
        assertEquals(16, Structs.SESSION_OPTIONS.byteSize());
        assertEquals(80, Structs.FORWARD_ARGS.byteSize());
        assertEquals(56, Structs.offset(Structs.CONFIG, "layer_norm_eps"));
        assertEquals(40, Structs.offset(Structs.FORWARD_ARGS, "use_cache"));
        assertEquals(72, Structs.offset(Structs.FORWARD_ARGS, "attentions"));
    }

    @Test
    void loadsTheBundledLibrary() {
        Native.ensureLoaded();
        assertFalse(Native.version().isEmpty());
        assertTrue(NativeLibrary.path().toString().endsWith("libpanopt.so"));
        int isa = Native.cpuIsa();
        assertTrue(isa >= Native.ISA_SCALAR && isa <= Native.ISA_AVX512, "isa " + isa);
    }

    @Test
    void statusCodesBecomeExceptionsWithTheNativeMessage() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            int status = panopt_model_create.invoke(MemorySegment.NULL, out);
            assertEquals(Native.ERR_INVALID_ARGUMENT, status);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Native.check(status, "panopt_model_create"));
            assertTrue(e.getMessage().startsWith("panopt_model_create: "), e.getMessage());
            assertTrue(e.getMessage().length() > "panopt_model_create: ".length(), "native message missing");
        }
        assertThrows(IllegalStateException.class, () -> Native.check(Native.ERR_STATE, "x"));
        assertThrows(IllegalStateException.class, () -> Native.check(Native.ERR_CAPACITY, "x"));
        assertThrows(UnsupportedOperationException.class, () -> Native.check(Native.ERR_UNSUPPORTED, "x"));
        assertThrows(OutOfMemoryError.class, () -> Native.check(Native.ERR_OUT_OF_MEMORY, "x"));
        Native.check(Native.OK, "x");
    }

    @Test
    void freeingNullIsANoOp() {
        assertEquals(Native.OK, panopt_model_free.invoke(MemorySegment.NULL));
    }
}
