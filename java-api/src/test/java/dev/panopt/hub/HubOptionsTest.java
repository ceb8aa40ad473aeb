package dev.panopt.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link HubOptions}' defaults follow huggingface_hub's environment variables. */
class HubOptionsTest {
    @TempDir
    Path tmp;

    @Test
    void withoutVariablesTheDefaultsAreHuggingFaces() {
        HubOptions o = HubOptions.builder(Map.of("HOME", "/home/u")).build();
        assertEquals("https://huggingface.co", o.endpoint().toString());
        assertEquals(Path.of("/home/u/.cache/huggingface/hub"), o.cacheDir());
        assertEquals(Optional.empty(), o.token());
        assertFalse(o.offline());
        assertEquals(Duration.ofSeconds(10), o.metadataTimeout());
        assertEquals(Duration.ofSeconds(10), o.downloadTimeout());
        assertEquals(HubOptions.DEFAULT_MAX_RETRIES, o.maxRetries());
        assertEquals(50_000_000_000L, o.maxFileSize());
    }

    @Test
    void variablesSetEndpointCacheTokenOfflineAndTimeouts() {
        HubOptions o = HubOptions.builder(Map.of("HF_ENDPOINT", "https://mirror.example/hf/", "HF_HOME", "/data/hf",
                "HF_TOKEN", " hf_abc\n", "HF_HUB_OFFLINE", "yes", "HF_HUB_ETAG_TIMEOUT", "3",
                "HF_HUB_DOWNLOAD_TIMEOUT", "60")).build();
        assertEquals("https://mirror.example/hf", o.endpoint().toString());
        assertEquals(Path.of("/data/hf/hub"), o.cacheDir());
        assertEquals(Optional.of("hf_abc"), o.token());
        assertTrue(o.offline());
        assertEquals(Duration.ofSeconds(3), o.metadataTimeout());
        assertEquals(Duration.ofSeconds(60), o.downloadTimeout());

        assertEquals(Path.of("/c/hub2"), HubOptions.builder(Map.of("HF_HOME", "/data/hf", "HF_HUB_CACHE", "/c/hub2"))
                .build().cacheDir());
        assertEquals(Path.of("/legacy"), HubOptions.builder(Map.of("HUGGINGFACE_HUB_CACHE", "/legacy")).build().cacheDir());
        assertEquals(Path.of("/x/huggingface/hub"), HubOptions.builder(Map.of("XDG_CACHE_HOME", "/x")).build().cacheDir());
        assertEquals(Path.of("/home/u/hf/hub"), HubOptions.builder(Map.of("HOME", "/home/u", "HF_HOME", "~/hf")).build()
                .cacheDir());
        assertTrue(HubOptions.builder(Map.of("TRANSFORMERS_OFFLINE", "1")).build().offline());
        assertFalse(HubOptions.builder(Map.of("HF_HUB_OFFLINE", "0")).build().offline());
        assertEquals(Optional.of("legacy"), HubOptions.builder(Map.of("HUGGING_FACE_HUB_TOKEN", "legacy")).build().token());
    }

    @Test
    void theTokenFileIsReadWhenNoVariableGivesOne() throws Exception {
        Files.writeString(tmp.resolve("token"), "hf_fromfile\n");
        assertEquals(Optional.of("hf_fromfile"), HubOptions.builder(Map.of("HF_HOME", tmp.toString())).build().token());
        assertEquals(Optional.of("hf_env"), HubOptions.builder(Map.of("HF_HOME", tmp.toString(), "HF_TOKEN", "hf_env"))
                .build().token());
        Files.writeString(tmp.resolve("other"), "hf_other");
        assertEquals(Optional.of("hf_other"), HubOptions.builder(Map.of("HF_HOME", tmp.toString(), "HF_TOKEN_PATH",
                tmp.resolve("other").toString())).build().token());
        assertEquals(Optional.empty(), HubOptions.builder(Map.of("HF_HOME", tmp.toString(),
                "HF_HUB_DISABLE_IMPLICIT_TOKEN", "true", "HF_TOKEN", "hf_env")).build().token());
        Files.write(tmp.resolve("token"), new byte[100_000]);
        assertEquals(Optional.empty(), HubOptions.builder(Map.of("HF_HOME", tmp.toString())).build().token(),
                "a 100 kB file is not a token");
    }

    @Test
    void malformedSettingsAreRejectedByName() {
        for (String bad : new String[] {"ftp://x", "not a url", "https://user:pw@host", "https://h/?q=1", "/relative"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> HubOptions.builder(Map.of("HF_ENDPOINT", bad)), bad);
            assertTrue(e.getMessage().startsWith("HF_ENDPOINT"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> HubOptions.builder(Map.of()).endpoint(bad), bad);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HubOptions.builder(Map.of("HF_HUB_ETAG_TIMEOUT", "soon")));
        assertTrue(e.getMessage().startsWith("HF_HUB_ETAG_TIMEOUT"), e.getMessage());
        HubOptions.Builder b = HubOptions.builder(Map.of());
        assertThrows(IllegalArgumentException.class, () -> b.downloadTimeout(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> b.maxRetries(-1));
        assertThrows(IllegalArgumentException.class, () -> b.maxFileSize(0));
    }

    @Test
    void theTokenIsNeverPrinted() {
        HubOptions o = HubOptions.builder(Map.of()).token("hf_secret").build();
        assertFalse(o.toString().contains("hf_secret"), o.toString());
        assertTrue(o.toString().contains("token=(set)"), o.toString());
        assertEquals(Optional.empty(), o.toBuilder().token(null).build().token());
        assertEquals(Optional.empty(), o.toBuilder().token("  ").build().token());
    }
}
