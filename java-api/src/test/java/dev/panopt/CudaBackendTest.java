package dev.panopt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CUDA device through the Java API: without a usable GPU, asking for one is a clear
 * {@link UnsupportedOperationException} and the CPU keeps working; with one (the tests skip, saying
 * why, where there is none), models on it agree with the CPU backend.
 */
class CudaBackendTest {
    static final Path PRELN = OptForCausalLMTest.PRELN;

    /** The CUDA backend, or null with the reason in {@code why[0]}. */
    static Backend tryCuda(String[] why) {
        try {
            return Backend.create(BackendOptions.builder().device(Device.cuda(0)).build());
        } catch (UnsupportedOperationException e) {
            why[0] = e.getMessage();
            return null;
        }
    }

    @Test
    void aMissingGpuIsNamedAndTheCpuStillWorks() throws Exception {
        String[] why = new String[1];
        Backend b = tryCuda(why);
        if (b != null) {
            b.close(); // a usable GPU: nothing missing to report here
            return;
        }
        String m = why[0];
        assertTrue(m.startsWith("cannot use cuda:0: "), m);
        assertTrue(m.contains("no CUDA driver") || m.contains("no CUDA device") || m.contains("no CUDA backend")
                || m.contains("compute capability") || m.contains("driver is too old"), m);
        // the same through the shared backend of the device, on every call
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> OptForCausalLM.fromPretrained(PRELN, LoadOptions.builder().device(Device.cuda(0)).build()));
        assertEquals(m, e.getMessage());
        assertThrows(UnsupportedOperationException.class, () -> Backend.shared(Device.cuda(0)));
        try (OptForCausalLM lm = OptForCausalLM.fromPretrained(PRELN); CausalLMOutput out = lm.forward(new int[] {2, 5})) {
            assertEquals(2, out.logits().shape()[1]);
        }
    }

    /** Prints one line per outcome, in a JVM whose libpanopt has no libpanopt_cuda.so beside it. */
    public static final class NoCudaLibraryProbe {
        public static void main(String[] args) throws Exception {
            try {
                Backend.create(BackendOptions.builder().device(Device.cuda(0)).build());
                System.out.println("RESULT cuda OK");
            } catch (Throwable t) {
                System.out.println("RESULT " + t.getClass().getName() + ": " + t.getMessage());
            }
            try (OptForCausalLM lm = OptForCausalLM.fromPretrained(Path.of(args[0]))) {
                lm.forward(new int[] {2, 5}).close();
                System.out.println("RESULT cpu OK");
            }
        }
    }

    @Test
    void aBuildWithoutTheCudaLibraryIsAClearException(@TempDir Path tmp) throws Exception {
        Path lib = Files.copy(Panopt.nativeLibraryPath(), tmp.resolve("libpanopt.so")); // alone in its directory
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Dpanopt.library.path=" + lib, "-cp",
                System.getProperty("java.class.path"), NoCudaLibraryProbe.class.getName(), PRELN.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        List<String> lines = out.lines().filter(l -> l.startsWith("RESULT ")).toList();
        assertEquals(List.of("RESULT java.lang.UnsupportedOperationException: cannot use cuda:0: this build has no CUDA "
                + "backend: " + tmp.resolve("libpanopt_cuda.so") + " does not exist (libpanopt_cuda.so is built where "
                + "nvcc is found; PANOPT_CUDA_LIBRARY names another file)", "RESULT cpu OK"), lines, out);
    }

    @Test
    void onAGpuModelsAgreeWithTheCpu() throws Exception {
        String[] why = new String[1];
        Backend gpu = tryCuda(why);
        Assumptions.assumeTrue(gpu != null, () -> "SKIPPED (no usable CUDA device): " + why[0]);
        try (gpu;
             OptForCausalLM cpuLm = OptForCausalLM.fromPretrained(PRELN);
             OptForCausalLM gpuLm = OptForCausalLM.fromPretrained(PRELN, LoadOptions.builder().backend(gpu).build())) {
            assertEquals(Device.cuda(0), gpu.device());
            assertEquals("Backend[cuda:0]", gpu.toString());
            try (CausalLMOutput c = cpuLm.forward(OptForCausalLMTest.IDS, OptForCausalLMTest.MASK);
                 CausalLMOutput g = gpuLm.forward(OptForCausalLMTest.IDS, OptForCausalLMTest.MASK)) {
                float[] cf = c.logits().toFloatArray(), gf = g.logits().toFloatArray();
                for (int i = 0; i < cf.length; i++) {
                    assertEquals(cf[i], gf[i], 2e-4 + 2e-4 * Math.abs(cf[i]), "logit " + i);
                }
            }
            // greedy decoding: prefill, then single-token steps replayed from a CUDA graph
            GenerationConfig greedy = GenerationConfig.greedy(12);
            int[][] prompt = {{2, 10, 20, 30}};
            assertArrayEquals(cpuLm.generate(prompt, null, greedy).tokens(0), gpuLm.generate(prompt, null, greedy).tokens(0));
        }
    }
}
