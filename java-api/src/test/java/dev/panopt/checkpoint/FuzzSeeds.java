package dev.panopt.checkpoint;

import dev.panopt.DType;
import dev.panopt.OptConfig;
import dev.panopt.fuzz.Fuzz;
import dev.panopt.internal.Json;
import dev.panopt.internal.WeightLayout;
import dev.panopt.internal.WeightSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Writes the seed corpora of the fuzz targets under {@code src/test/resources} (kilobytes, not the
 * fixtures' megabytes): small valid instances of every format, built with the project's writers, plus
 * the fixtures' configs, tokenizer texts and the real torch-written {@code data.pkl} of the shared
 * checkpoint when it is present. Run from the java-api directory:
 * {@code java -cp target/test-classes:target/classes:... dev.panopt.checkpoint.FuzzSeeds}.
 * Crashing inputs the fuzzer finds are added beside these by Jazzer and kept.
 */
public final class FuzzSeeds {
    private FuzzSeeds() {}

    private static final Path RES = Path.of("src/test/resources");
    private static final Path FIXTURES = Path.of("../conformance/fixtures");

    public static void main(String[] args) throws IOException {
        Path tmp = Files.createTempDirectory("seeds");

        // ---- safetensors
        Path st = dir("dev.panopt.checkpoint.SafetensorsFuzzTest", "safetensorsFile");
        Path f = tmp.resolve("a.safetensors");
        new SafetensorsWriter().metadata("format", "pt")
                .addFloats("w", DType.F32, new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6})
                .addFloats("h", DType.F16, new long[] {4}, new float[] {1, -2, 0.5f, 65504})
                .addFloats("b", DType.BF16, new long[] {2, 2}, new float[] {1, 2, 3, 4})
                .addFloats("d", DType.F64, new long[] {1}, new float[] {3})
                .addLongs("i", DType.I64, new long[] {2}, new long[] {-1, 7})
                .addLongs("m", DType.BOOL, new long[] {3}, new long[] {1, 0, 1})
                .addLongs("u", DType.U8, new long[] {}, new long[] {255})
                .addFloats("e", DType.F32, new long[] {0, 5}, new float[0])
                .write(f);
        Files.copy(f, st.resolve("seed-mixed-dtypes"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        byte[] real = Files.readAllBytes(FIXTURES.resolve("cases/preln-tiny/model.safetensors"));
        long headerLen = ByteBuffer.wrap(real).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        // The real header with only the start of the data: every offset runs past the end.
        Files.write(st.resolve("seed-real-header-truncated"), java.util.Arrays.copyOf(real, (int) (8 + headerLen + 64)));
        Files.write(st.resolve("seed-empty-header"), frame("{}", 0));
        Files.write(st.resolve("seed-overlap"), frame(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8));

        // ---- PyTorch zip and its pickle
        Path pz = dir("dev.panopt.checkpoint.PyTorchZipFuzzTest", "pytorchZip");
        Path pk = dir("dev.panopt.checkpoint.TorchPickleFuzzTest", "statePickle");
        List<TorchZipWriter.T> ts = List.of(TorchZipWriter.T.dense("model.decoder.embed_tokens.weight", "HalfStorage", "0", 4, 2),
                new TorchZipWriter.T("lm_head.weight", "HalfStorage", "0", 8, 0, new long[] {4, 2}, new long[] {2, 1}),
                TorchZipWriter.T.dense("model.decoder.final_layer_norm.bias", "FloatStorage", "1", 2));
        Map<String, byte[]> storages = new LinkedHashMap<>();
        storages.put("0", new byte[16]);
        storages.put("1", new byte[8]);
        for (boolean zip64 : new boolean[] {false, true}) {
            Path z = TorchZipWriter.write(tmp.resolve("z.bin"), "archive", ts, storages, zip64);
            Files.copy(z, pz.resolve(zip64 ? "seed-zip64" : "seed-tied"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        Files.write(pk.resolve("seed-writer"), TorchZipWriter.statePickle(ts));
        Path shared = Path.of("../../shared/conformance/cases/opt125m-shape-f16/pytorch_model.bin");
        if (!Files.isRegularFile(shared)) {
            shared = Path.of("../shared/conformance/cases/opt125m-shape-f16/pytorch_model.bin");
        }
        if (Files.isRegularFile(shared)) {
            try (ZipFile zf = new ZipFile(shared.toFile())) {
                ZipEntry e = zf.getEntry("pytorch_model/data.pkl");
                Files.write(pk.resolve("seed-torch-1.13"), zf.getInputStream(e).readAllBytes());
            }
        }

        // ---- config.json
        Path cj = dir("dev.panopt.fuzz.ConfigFuzzTest", "configJson");
        for (String c : List.of("preln-tiny", "seqcls-multi", "postln-proj-tiny", "seqcls-regression")) {
            Files.copy(FIXTURES.resolve("cases/" + c + "/config.json"), cj.resolve("seed-" + c),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }

        // ---- checkpoint directories: a complete (tiny) OPT checkpoint in each layout
        Path cd = dir("dev.panopt.fuzz.CheckpointDirectoryFuzzTest", "checkpointDirectory");
        OptConfig tiny = OptConfig.builder().vocabSize(8).hiddenSize(4).numHiddenLayers(1).numAttentionHeads(1)
                .ffnDim(8).maxPositionEmbeddings(6).wordEmbedProjDim(4).build();
        byte[] config = tiny.toJson().getBytes(StandardCharsets.UTF_8);
        List<WeightSpec> weights = WeightLayout.decoderWeights(tiny);
        SafetensorsWriter all = new SafetensorsWriter();
        SafetensorsWriter[] shards = {new SafetensorsWriter(), new SafetensorsWriter()};
        Map<String, Object> weightMap = new LinkedHashMap<>();
        for (int i = 0; i < weights.size(); i++) {
            WeightSpec w = weights.get(i);
            String name = "model." + w.name();
            float[] v = new float[(int) w.numel()];
            all.addFloats(name, DType.F16, w.shape(), v);
            shards[i % 2].addFloats(name, DType.F16, w.shape(), v);
            weightMap.put(name, "model-0000" + (i % 2 + 1) + "-of-00002.safetensors");
        }
        all.write(tmp.resolve("all"));
        shards[0].write(tmp.resolve("s1"));
        shards[1].write(tmp.resolve("s2"));
        Map<String, byte[]> single = new LinkedHashMap<>();
        single.put("config.json", config);
        single.put("model.safetensors", Files.readAllBytes(tmp.resolve("all")));
        Files.write(cd.resolve("seed-safetensors"), Fuzz.join(single));
        Map<String, byte[]> sharded = new LinkedHashMap<>();
        sharded.put("config.json", config);
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("metadata", Map.of("total_size", 1L));
        index.put("weight_map", weightMap);
        sharded.put("model.safetensors.index.json", Json.write(index).getBytes(StandardCharsets.UTF_8));
        sharded.put("model-00001-of-00002.safetensors", Files.readAllBytes(tmp.resolve("s1")));
        sharded.put("model-00002-of-00002.safetensors", Files.readAllBytes(tmp.resolve("s2")));
        Files.write(cd.resolve("seed-safetensors-sharded"), Fuzz.join(sharded));
        List<TorchZipWriter.T> torch = new ArrayList<>();
        Map<String, byte[]> torchStorages = new LinkedHashMap<>();
        Map<String, Object> torchMap = new LinkedHashMap<>();
        for (int i = 0; i < weights.size(); i++) {
            WeightSpec w = weights.get(i);
            torch.add(TorchZipWriter.T.dense("model." + w.name(), "HalfStorage", Integer.toString(i), w.shape()));
            torchStorages.put(Integer.toString(i), new byte[(int) w.numel() * 2]);
            torchMap.put("model." + w.name(), "pytorch_model.bin");
        }
        Map<String, byte[]> pt = new LinkedHashMap<>();
        pt.put("config.json", config);
        pt.put("pytorch_model.bin", Files.readAllBytes(TorchZipWriter.write(tmp.resolve("pt"), "pytorch_model", torch,
                torchStorages, false)));
        Files.write(cd.resolve("seed-pytorch"), Fuzz.join(pt));
        Map<String, byte[]> ptIndex = new LinkedHashMap<>(pt);
        ptIndex.remove("pytorch_model.bin");
        ptIndex.put("pytorch_model.bin.index.json", Json.write(Map.of("weight_map", torchMap))
                .replace("pytorch_model.bin\"", "pytorch_model-00001-of-00001.bin\"").getBytes(StandardCharsets.UTF_8));
        ptIndex.put("pytorch_model-00001-of-00001.bin", pt.get("pytorch_model.bin"));
        Files.write(cd.resolve("seed-pytorch-sharded"), Fuzz.join(ptIndex));

        // ---- GGUF: a tiny OPT (with OPT's layout of names, config keys and a 269-token tokenizer) in F32 and F16,
        //      and a file with every value type and several tensor types
        Path gg = dir("dev.panopt.checkpoint.GgufFuzzTest", "ggufFile");
        // hidden 32, ffn 64: rows of whole 32-blocks, so the Q8_0 seed holds Q8_0 matrices
        OptConfig small = tiny.toBuilder().vocabSize(272).hiddenSize(32).numAttentionHeads(2).ffnDim(64)
                .wordEmbedProjDim(32).build();
        Path smallDir = Files.createDirectories(tmp.resolve("small"));
        Files.writeString(smallDir.resolve("config.json"), small.toJson());
        SafetensorsWriter sw = new SafetensorsWriter();
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(7);
        for (WeightSpec w : WeightLayout.decoderWeights(small)) {
            float[] v = new float[(int) w.numel()];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) rnd.nextGaussian() * 0.02f;
            }
            sw.addFloats("model." + w.name(), DType.F32, w.shape(), v);
        }
        sw.write(smallDir.resolve("model.safetensors"));
        dev.panopt.tokenizer.OptTokenizer tok = dev.panopt.tokenizer.OptTokenizer.fromPretrained(
                OptGgufTest.tinyTokenizer(tmp));
        for (dev.panopt.Quantization q : List.of(dev.panopt.Quantization.F32, dev.panopt.Quantization.F16,
                dev.panopt.Quantization.Q8_0)) {
            OptGguf.convert(smallDir, gg.resolve("seed-opt-" + q.name().toLowerCase(java.util.Locale.ROOT)), q, tok,
                    (d, total) -> {});
        }
        new GgufWriter().putUInt32(GgufFile.ALIGNMENT_KEY, 64).putString("s", "Ġworld é")
                .putBool("b", true).putFloat32("f32", 1.5f).putFloat64("f64", -2.25)
                .putInteger("i8", GgufType.INT8, -3).putInteger("u16", GgufType.UINT16, 65535)
                .putInteger("i64", GgufType.INT64, Long.MIN_VALUE).putInteger("u64", GgufType.UINT64, 7)
                .putStringArray("strings", List.of("a", "b c"))
                .putIntegerArray("ints", GgufType.INT32, new long[] {-1, 0, 1})
                .addTensor("f32", DType.F32, new long[] {2, 2}, new byte[16])
                .addTensor("f16", DType.F16, new long[] {3}, new byte[6])
                .addTensor("bf16", DType.BF16, new long[] {1, 1, 2}, new byte[4])
                .addTensor("q8_0", DType.Q8_0, new long[] {1, 32}, new byte[34])
                .addTensor("q4_k", DType.Q4_K, new long[] {256}, new byte[144])
                .addTensor("i32", DType.I32, new long[] {1}, new byte[4])
                .write(gg.resolve("seed-every-type"));

        // ---- tokenizer directories: a byte-level vocabulary of 260 tokens plus a few merges
        Path td = dir("dev.panopt.fuzz.TokenizerFilesFuzzTest", "tokenizerDirectory");
        Map<String, Object> vocab = new LinkedHashMap<>();
        for (String s : List.of("<s>", "<pad>", "</s>", "<unk>")) {
            vocab.put(s, (long) vocab.size());
        }
        for (int b = 0; b < 256; b++) {
            vocab.putIfAbsent(byteChar(b), (long) vocab.size());
        }
        List<String> merges = List.of("\u0120 t", "h e", "\u0120t he", "l l", "o \u0120", "e r", "\u0120 w", "o r", "l d");
        for (String m : merges) {
            vocab.putIfAbsent(m.replace(" ", ""), (long) vocab.size());
        }
        byte[] vocabJson = Json.write(vocab).getBytes(StandardCharsets.UTF_8);
        Path vs = dir("dev.panopt.tokenizer.VocabScannerFuzzTest", "vocabJson");
        Files.write(vs.resolve("seed-byte-level"), vocabJson);
        Files.write(vs.resolve("seed-escapes"), ("{\"\\u0120the\": 0, \"\\ud83d\\ude00\": 1, \"a\\\"b\\\\c\\/\": 2,"
                + " \"\\n\\t\": 3, \"\u00e9\u4e16\": 10000000}").getBytes(StandardCharsets.UTF_8));
        Files.write(vs.resolve("seed-pretty"), "{\n  \"<s>\": 0,\n  \"<pad>\": 1,\n  \"</s>\": 2\n}\n"
                .getBytes(StandardCharsets.UTF_8));
        byte[] mergesTxt = ("#version: 0.2\n" + String.join("\n", merges) + "\n").getBytes(StandardCharsets.UTF_8);
        Map<String, byte[]> vm = new LinkedHashMap<>();
        vm.put("vocab.json", vocabJson);
        vm.put("merges.txt", mergesTxt);
        Files.write(td.resolve("seed-vocab-merges"), Fuzz.join(vm));
        Map<String, byte[]> vmc = new LinkedHashMap<>(vm);
        vmc.put("tokenizer_config.json", ("{\"add_bos_token\": true, \"bos_token\": {\"content\": \"</s>\", \"lstrip\": false},"
                + " \"added_tokens_decoder\": {\"269\": {\"content\": \"<mask>\", \"lstrip\": true, \"rstrip\": false,"
                + " \"special\": true, \"single_word\": false, \"normalized\": false}}}").getBytes(StandardCharsets.UTF_8));
        vmc.put("special_tokens_map.json", "{\"pad_token\": \"<pad>\", \"additional_special_tokens\": [\"<extra>\"]}"
                .getBytes(StandardCharsets.UTF_8));
        vmc.put("added_tokens.json", "{\"<extra>\": 270}".getBytes(StandardCharsets.UTF_8));
        Files.write(td.resolve("seed-with-configs"), Fuzz.join(vmc));
        List<Object> mergePairs = new ArrayList<>();
        for (String m : merges) {
            mergePairs.add(List.of(m.split(" ")));
        }
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "BPE");
        model.put("vocab", vocab);
        model.put("merges", mergePairs);
        Map<String, Object> tj = new LinkedHashMap<>();
        tj.put("version", "1.0");
        Map<String, Object> pad = new LinkedHashMap<>(); // (Map.of's order changes from run to run)
        pad.put("id", 1L);
        pad.put("content", "<pad>");
        pad.put("special", true);
        pad.put("lstrip", false);
        pad.put("rstrip", false);
        pad.put("single_word", false);
        pad.put("normalized", false);
        tj.put("added_tokens", List.of(pad));
        tj.put("model", model);
        Files.write(td.resolve("seed-tokenizer-json"), Fuzz.join(Map.of("tokenizer.json",
                Json.write(tj).getBytes(StandardCharsets.UTF_8))));

        // ---- tokenizer codec: the reference texts (mode 0), surrogates (mode 1), ids (mode 2)
        Path tc = dir("dev.panopt.fuzz.TokenizerCodecFuzzTest", "codec");
        int n = 0;
        for (String line : Files.readAllLines(FIXTURES.resolve("tokenizer/cases.jsonl"))) {
            Object text = Json.asObject(Json.parse(line), "case").get("text");
            if (text instanceof String s && s.length() < 400) {
                byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
                byte[] in = new byte[utf8.length + 1];
                System.arraycopy(utf8, 0, in, 1, utf8.length);
                Files.write(tc.resolve(String.format("seed-text-%02d", n++)), in);
            }
        }
        Files.write(tc.resolve("seed-utf16-lone-surrogates"), new byte[] {1, (byte) 0xd8, 0x3d, 0, 'a', (byte) 0xde, 0,
                (byte) 0xd8, 0x3d, (byte) 0xde, 0});
        Files.write(tc.resolve("seed-ids"), new byte[] {2, 0, 2, 0x7a, 0x66, 0, 1, (byte) 0xc4, (byte) 0xb7, 0, 0});
        Files.write(tc.resolve("seed-ids-skip-cleanup"), new byte[] {14, 0, 2, 0, 1, 0, 4, 0, 5});

        // ---- the hub cache: refs/main, a sharded index, names that become cache paths
        Path hc = dir("dev.panopt.hub.HubCacheFuzzTest", "cache");
        byte[] commit = "0123456789abcdef0123456789abcdef01234567".getBytes(StandardCharsets.US_ASCII);
        Map<String, byte[]> hubSharded = new LinkedHashMap<>();
        hubSharded.put("refs", commit);
        hubSharded.put("index", ("{\"metadata\": {\"total_size\": 0}, \"weight_map\": {\"a\": \"model-00001-of-00002.safetensors\","
                + " \"b\": \"model-00002-of-00002.safetensors\"}}").getBytes(StandardCharsets.UTF_8));
        hubSharded.put("name", "sub/dir/config.json".getBytes(StandardCharsets.UTF_8));
        Files.write(hc.resolve("seed-sharded"), Fuzz.join(hubSharded));
        Map<String, byte[]> traversal = new LinkedHashMap<>();
        traversal.put("refs", (new String(commit, StandardCharsets.US_ASCII) + "\n").getBytes(StandardCharsets.US_ASCII));
        traversal.put("index", "{\"weight_map\": {\"a\": \"../../x.safetensors\"}}".getBytes(StandardCharsets.UTF_8));
        traversal.put("name", "facebook/opt-125m@refs/pr/1".getBytes(StandardCharsets.UTF_8));
        Files.write(hc.resolve("seed-traversal"), Fuzz.join(traversal));
        Map<String, byte[]> otherRef = new LinkedHashMap<>();
        otherRef.put("refs", "../../../etc".getBytes(StandardCharsets.UTF_8));
        otherRef.put("name", "../x".getBytes(StandardCharsets.UTF_8));
        Files.write(hc.resolve("seed-other-ref"), Fuzz.join(otherRef));
        System.out.println("seeds written under " + RES.toAbsolutePath());
    }

    private static Path dir(String testClass, String method) throws IOException {
        Path d = RES.resolve(testClass.replace('.', '/') + "Inputs").resolve(method);
        Files.createDirectories(d);
        return d;
    }

    private static byte[] frame(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        return b.putLong(h.length).put(h).array();
    }

    /** GPT-2's printable stand-in for a byte. */
    private static String byteChar(int b) {
        boolean printable = (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
        if (printable) {
            return Character.toString(b);
        }
        int k = 0;
        for (int x = 0; x < b; x++) {
            boolean p = (x >= '!' && x <= '~') || (x >= 0xa1 && x <= 0xac) || (x >= 0xae && x <= 0xff);
            if (!p) {
                k++;
            }
        }
        return Character.toString(256 + k);
    }
}
