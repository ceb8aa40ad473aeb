package dev.panopt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Device names and the options that carry a device (no GPU needed). */
class DeviceTest {
    @Test
    void namesParseAndPrintAsPyTorchWritesThem() {
        assertSame(Device.cpu(), Device.parse("cpu"));
        assertEquals(Device.cuda(0), Device.parse("cuda"));
        assertEquals(Device.cuda(0), Device.parse(" CUDA:0 "));
        assertEquals(Device.cuda(12), Device.parse("cuda:12"));
        assertEquals("cuda:3", Device.cuda(3).toString());
        assertEquals("cpu", Device.cpu().toString());
        assertEquals(Device.Kind.CUDA, Device.cuda(1).kind());
        assertEquals(1, Device.cuda(1).index());
        for (String bad : new String[] {"", "gpu", "cuda:", "cuda:-1", "cuda:x", "cuda:1:2", "cpu:0", "cuda:99999999999"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Device.parse(bad), bad);
            assertTrue(e.getMessage().contains("cpu, cuda or cuda:N"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Device.cuda(-1));
        assertThrows(IllegalArgumentException.class, () -> new Device(Device.Kind.CPU, 1));
    }

    @Test
    void backendOptionsKeepTheCpuSettingsForTheCpu() {
        BackendOptions cuda = BackendOptions.builder().device(Device.cuda(1)).build();
        assertEquals(Device.cuda(1), cuda.device());
        assertEquals(0, cuda.threads());
        assertEquals(Isa.AUTO, cuda.isa());
        assertEquals(cuda, cuda.toBuilder().build());
        assertEquals(Device.cpu(), BackendOptions.DEFAULT.device());
        assertEquals(new BackendOptions(2, Isa.AVX2, Device.cpu()), new BackendOptions(2, Isa.AVX2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BackendOptions.builder().threads(4).device(Device.cuda(0)).build());
        assertTrue(e.getMessage().contains("cuda:0 takes neither"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> BackendOptions.builder().isa(Isa.SCALAR).device(Device.cuda(0)).build());
        assertThrows(NullPointerException.class, () -> BackendOptions.builder().device(null));
    }

    @Test
    void loadOptionsTakeADeviceOrABackendThatAgree() {
        assertEquals(Device.cpu(), LoadOptions.DEFAULT.device());
        assertEquals(Device.cuda(2), LoadOptions.builder().device(Device.cuda(2)).build().device());
        assertSame(Backend.shared(), LoadOptions.builder().device(Device.cpu()).build().backend());
        assertSame(Backend.shared(), LoadOptions.builder().backend(Backend.shared()).device(Device.cpu()).build().backend());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LoadOptions.builder().backend(Backend.shared()).device(Device.cuda(0)).build());
        assertTrue(e.getMessage().contains("different devices"), e.getMessage());
    }
}
