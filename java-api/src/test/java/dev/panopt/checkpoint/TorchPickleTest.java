package dev.panopt.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.DType;
import dev.panopt.checkpoint.TorchPickle.TensorRef;
import dev.panopt.checkpoint.TorchZipWriter.Pickle;
import dev.panopt.checkpoint.TorchZipWriter.T;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The restricted pickle interpreter: what torch writes is read; everything else is a clear error. */
class TorchPickleTest {
    static final Path FILE = Path.of("test.bin");

    static Map<String, TensorRef> parse(byte[] pkl) throws CheckpointException {
        return TorchPickle.parseStateDict(FILE, "archive/data.pkl", pkl);
    }

    static CheckpointException fails(byte[] pkl, String... fragments) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> parse(pkl));
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
        }
        assertTrue(e.getMessage().startsWith(FILE + ": archive/data.pkl: "), e.getMessage());
        return e;
    }

    /** Pickle prefix: PROTO 2, OrderedDict() memo 1, MARK. Tests append the items. */
    static Pickle prefix() {
        return new Pickle().proto(2).global("collections", "OrderedDict").op(')', 'R').put().op('(');
    }

    /** A valid tensor value (storage 'k', HalfStorage, numel 6, size (2, 3)) at the top of the stack. */
    static Pickle tensor(Pickle p, String storageType, String reduceModule, String reduceName) {
        p.global(reduceModule, reduceName).op('(', '(').str("storage").global("torch", storageType).str("k")
                .str("cpu").integer(6).op('t', 'Q').integer(0).intTuple(new long[] {2, 3})
                .intTuple(new long[] {3, 1}).op(0x89).get(0).op(')', 'R', 't', 'R');
        return p;
    }

    @Test
    void readsWhatTorchWrites() throws CheckpointException {
        List<T> ts = List.of(T.dense("a.weight", "HalfStorage", "0", 4, 3),
                new T("a.bias", "FloatStorage", "1", 10, 2, new long[] {5}, new long[] {1}),
                new T("tied", "HalfStorage", "0", 12, 0, new long[] {4, 3}, new long[] {3, 1}),
                T.dense("scalar", "LongStorage", "2"),
                T.dense("big", "BFloat16Storage", "3", 70000, 2));
        Map<String, TensorRef> m = parse(TorchZipWriter.statePickle(ts));
        assertEquals(List.of("a.weight", "a.bias", "tied", "scalar", "big"), List.copyOf(m.keySet()));
        TensorRef w = m.get("a.weight");
        assertEquals(DType.F16, w.storage().dtype());
        assertEquals("0", w.storage().key());
        assertEquals("cpu", w.storage().location());
        assertEquals(12, w.storage().numel());
        assertArrayEquals(new long[] {4, 3}, w.size());
        assertArrayEquals(new long[] {3, 1}, w.stride());
        assertEquals(2, m.get("a.bias").offset());
        assertEquals(DType.F32, m.get("a.bias").storage().dtype());
        assertSame(w.storage(), m.get("tied").storage(), "one storage object per key");
        assertArrayEquals(new long[0], m.get("scalar").size());
        assertEquals(DType.I64, m.get("scalar").storage().dtype());
        assertArrayEquals(new long[] {70000, 2}, m.get("big").size());
        assertEquals(140000, m.get("big").storage().numel());
    }

    @Test
    void acceptsProtocol4OpcodesParameterAndMetadataBuild() throws CheckpointException {
        // PROTO 4, FRAME, SHORT_BINUNICODE + STACK_GLOBAL + MEMOIZE, _rebuild_parameter, BUILD with _metadata,
        // SETITEM, EMPTY_LIST/APPEND/APPENDS in the ignored state, BINFLOAT, NONE, NEWTRUE, LONG1.
        Pickle p = new Pickle().proto(4).op(0x95, 0, 0, 0, 0, 0, 0, 0, 0);
        p.op(0x8c, 11).raw("collections".getBytes()).op(0x94).op(0x8c, 11).raw("OrderedDict".getBytes()).op(0x94)
                .op(0x93, 0x94, ')', 'R', 0x94); // memo 0,1: strings; 2: global; 3: the dict
        p.op(0x8c, 1, 'w', 0x94); // key 'w', memo 4
        p.op(0x8c, 12).raw("torch._utils".getBytes()).op(0x8c, 18).raw("_rebuild_parameter".getBytes()).op(0x93);
        p.op('(');
        p.op(0x8c, 12).raw("torch._utils".getBytes()).op(0x8c, 18).raw("_rebuild_tensor_v2".getBytes()).op(0x93);
        p.op('(', '(').op(0x8c, 7).raw("storage".getBytes()).op('c').raw("torch\nFloatStorage\n".getBytes())
                .op(0x8c, 1, '7', 0x8c, 4).raw("cuda".getBytes()).op(0x8a, 1, 6, 't', 'Q')
                .op(0x8a, 0).op('K', 6, 0x85).op('K', 1, 0x85).op(0x88).op('}').op('N').op('t', 'R');
        p.op(0x88, '}', 't', 'R'); // _rebuild_parameter(tensor, True, {})
        p.op('s'); // SETITEM on the OrderedDict
        p.op('}', '(').op(0x8c, 9).raw("_metadata".getBytes()).op(']', 'K', 1, 'a', '(', 'G')
                .raw(new byte[] {0x3f, (byte) 0xf0, 0, 0, 0, 0, 0, 0}).op('N', 'e', 'u', 'b', '.');
        Map<String, TensorRef> m = parse(p.bytes());
        TensorRef w = m.get("w");
        assertEquals("7", w.storage().key());
        assertEquals("cuda", w.storage().location());
        assertEquals(DType.F32, w.storage().dtype());
        assertArrayEquals(new long[] {6}, w.size());
    }

    @Test
    void unknownGlobalIsRejectedWithItsOffset() {
        byte[] pkl = new Pickle().proto(2).global("os", "system").str("echo pwned").op(0x85, 'R', '.').bytes();
        fails(pkl, "global os.system is not allowed", "GLOBAL", "at byte 2");
    }

    @Test
    void stackGlobalOutsideTheAllowListIsRejected() {
        Pickle p = new Pickle().proto(4).op(0x8c, 8).raw("builtins".getBytes()).op(0x8c, 4).raw("eval".getBytes())
                .op(0x93);
        fails(p.bytes(), "global builtins.eval is not allowed", "STACK_GLOBAL");
        fails(new Pickle().proto(2).global("torch", "ComplexFloatStorage").bytes(),
                "storage type torch.ComplexFloatStorage is not supported (supported: [BFloat16Storage");
    }

    @Test
    void reduceOfANonAllowListedCallableIsRejected() {
        // A storage type is an allowed global but not an allowed callable.
        Pickle p = new Pickle().proto(2).global("torch", "HalfStorage").integer(10).op(0x85, 'R', '.');
        fails(p.bytes(), "REDUCE of torch.HalfStorage", "not an allowed callable");
        // Nor is a string or a tuple.
        fails(new Pickle().proto(2).str("os").op(')', 'R').bytes(), "REDUCE of 'os'");
        // OrderedDict with arguments (could smuggle values) is refused.
        fails(new Pickle().proto(2).global("collections", "OrderedDict").op(']', 0x85, 'R').bytes(),
                "OrderedDict may only be called without arguments");
    }

    @Test
    void unknownOpcodeIsRejected() {
        fails(new Pickle().proto(2).op(0xFF).bytes(), "opcode unknown (0xff) at byte 2");
        fails(new Pickle().proto(2).op('i').raw("os\nsystem\n".getBytes()).bytes(), "INST (not accepted)");
        fails(new Pickle().proto(2).op(')', 0x81).bytes(), "NEWOBJ (not accepted)", "at byte 3");
        fails(new Pickle().proto(2).op('P').raw("0\n".getBytes()).bytes(), "PERSID (not accepted)");
        fails(new Pickle().proto(6).bytes(), "unsupported pickle protocol 6");
    }

    @Test
    void truncatedPickleIsRejected() {
        byte[] full = TorchZipWriter.statePickle(List.of(T.dense("w", "HalfStorage", "0", 2, 2)));
        for (int n = 0; n < full.length; n++) {
            byte[] cut = Arrays.copyOf(full, n);
            assertThrows(CheckpointException.class, () -> parse(cut), "prefix of " + n + " bytes");
        }
        fails(Arrays.copyOf(full, full.length - 1), "pickle ends without STOP: truncated");
        fails(new Pickle().proto(2).op('X').le32(1000).raw("abc".getBytes()).bytes(), "BINUNICODE",
                "argument of 1000 bytes runs past the end");
        fails(new Pickle().proto(2).op(0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff).bytes(), "BINUNICODE8");
        fails(new Pickle().proto(2).op('c').raw("collections".getBytes()).bytes(), "not newline-terminated");
    }

    @Test
    void persistentIdMustBeAStorageTuple() {
        fails(new Pickle().proto(2).str("x").op('Q').bytes(), "persistent id must be ('storage', StorageType, key,"
                + " location, numel), got 'x'");
        fails(new Pickle().proto(2).op('(').str("storage").str("torch.HalfStorage").str("0").str("cpu").integer(1)
                .op('t', 'Q').bytes(), "storage type must be a torch.*Storage");
        fails(new Pickle().proto(2).op('(').str("storage").global("torch", "HalfStorage").str("../x").str("cpu")
                .integer(1).op('t', 'Q').bytes(), "storage key must be a non-empty name");
        fails(new Pickle().proto(2).op('(').str("storage").global("torch", "HalfStorage").str("0").str("cpu")
                .op('J').le32(-5).op('t', 'Q').bytes(), "numel must be a non-negative integer, got -5");
        // Two persistent ids for one key that disagree.
        fails(new Pickle().proto(2).op('(').str("storage").global("torch", "HalfStorage").str("0").str("cpu")
                .integer(1).op('t', 'Q').op('(').get(0).global("torch", "FloatStorage").str("0").str("cpu")
                .integer(1).op('t', 'Q').bytes(), "storage 0 is described twice differently");
    }

    @Test
    void negativeOrOversizedIntegersInViewsAreRejected() {
        List<T> neg = List.of(new T("w", "HalfStorage", "0", 4, 0, new long[] {-1, 4}, new long[] {4, 1}));
        fails(TorchZipWriter.statePickle(neg), "tensor_v2: negative dimension in size [-1, 4]");
        List<T> negStride = List.of(new T("w", "HalfStorage", "0", 4, 0, new long[] {2, 2}, new long[] {-2, 1}));
        fails(TorchZipWriter.statePickle(negStride), "negative stride");
        List<T> negOff = List.of(new T("w", "HalfStorage", "0", 4, -1, new long[] {2, 2}, new long[] {2, 1}));
        fails(TorchZipWriter.statePickle(negOff), "storage offset must be a non-negative integer, got -1");
        List<T> rank = List.of(new T("w", "HalfStorage", "0", 4, 0, new long[] {2, 2}, new long[] {1}));
        fails(TorchZipWriter.statePickle(rank), "differ in rank");
        // LONG1 wider than 64 bits.
        fails(new Pickle().proto(2).op(0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1).bytes(), "does not fit 64 bits");
    }

    @Test
    void structuralMisuseIsRejected() {
        fails(new Pickle().proto(2).op('h', 7).bytes(), "BINGET", "memo index 7 was never stored");
        fails(new Pickle().proto(2).op('q', 0).bytes(), "BINPUT", "stack underflow");
        fails(new Pickle().proto(2).op('t').bytes(), "no MARK on the stack");
        fails(new Pickle().proto(2).op('(', 0x85).bytes(), "stack underflow (would cross a MARK)");
        fails(new Pickle().proto(2).op('}', '}', '.').bytes(), "STOP with 2 values");
        fails(new Pickle().proto(2).op('}', '(', '.').bytes(), "STOP with an unclosed MARK");
        fails(new Pickle().proto(2).op('}', '.', '.').bytes(), "1 trailing bytes after STOP");
        fails(new Pickle().proto(2).op(']', '.').bytes(), "must hold a dict of name -> tensor");
        fails(new Pickle().proto(2).op('}').str("w").integer(1).op('s', '.').bytes(),
                "state dict entry w is 1, not a tensor");
        fails(new Pickle().proto(2).op('}').str("w").op('N', 's').str("w").op('N', 's').bytes(), "duplicate dict key 'w'");
        fails(new Pickle().proto(2).op('}', ']', 'N', 's').bytes(), "dict key must be a string or an integer");
        fails(new Pickle().proto(2).op('}', '(', 'K', 1, 'u').bytes(), "odd number of values");
        fails(new Pickle().proto(2).op(']', '}', 'b').bytes(), "BUILD is only accepted on an OrderedDict");
        fails(new Pickle().proto(2).global("collections", "OrderedDict").op(')', 'R', 'K', 1, 'b').bytes(),
                "BUILD state of an OrderedDict must be a dict or None");
        fails(new Pickle().proto(2).op(')', 'K', 1, 'a').bytes(), "not a list");
        fails(new Pickle().proto(2).op('X').le32(2).op(0xC3, 0x28).bytes(), "not valid UTF-8");
        fails(new Pickle().proto(2).op('c').raw("os\u0001\nx\n".getBytes()).bytes(), "non-printable");
    }

    @Test
    void rebuildArgumentsAreChecked() {
        // hooks must be empty; metadata must be None/empty; requires_grad a bool; storage a persistent id.
        Pickle p = prefix().str("w").global("torch._utils", "_rebuild_tensor_v2").op('(').str("nope").integer(0)
                .op(')', ')', 0x89, '}', 't', 'R');
        fails(p.bytes(), "storage must be a persistent storage id, got 'nope'");
        Pickle q = prefix().str("w").global("torch._utils", "_rebuild_tensor_v2").integer(0).op(0x85, 'R');
        fails(q.bytes(), "needs (storage, offset, size, stride, requires_grad, hooks[, metadata]), got (0)");
        Pickle r = prefix().str("w").global("torch._utils", "_rebuild_parameter").op('(').integer(0).op(0x88, '}', 't', 'R');
        fails(r.bytes(), "_rebuild_parameter needs (tensor, requires_grad, empty hooks dict)");
    }

    @Test
    void hostileNestingAndCyclesNeitherOverflowNorHang() {
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            // 500k nested single-element tuples, then used as a dict key description.
            Pickle p = new Pickle().proto(2).op('}').op(')');
            for (int i = 0; i < 500_000; i++) {
                p.op(0x85);
            }
            fails(p.op('N', 's').bytes(), "dict key must be a string or an integer, got a tuple of 1");
            // A list that contains itself, stored as a tensor value.
            Pickle c = new Pickle().proto(2).op('}').str("w").op(']').put().get(1).op('a', 's', '.');
            fails(c.bytes(), "state dict entry w is a list of 1");
            // Stack growth is bounded.
            byte[] many = new byte[TorchPickle.MAX_STACK + 10];
            Arrays.fill(many, (byte) 'N');
            many[0] = (byte) 0x80;
            many[1] = 2;
            fails(many, "stack exceeds");
        });
    }

    @Test
    void randomBytesAndMutationsGiveCheckpointExceptionsOnly() {
        byte[] good = TorchZipWriter.statePickle(List.of(T.dense("a", "HalfStorage", "0", 2, 3),
                T.dense("b", "FloatStorage", "1", 5)));
        Random rnd = new Random(42);
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            for (int i = 0; i < 20_000; i++) {
                byte[] m = good.clone();
                int flips = 1 + rnd.nextInt(4);
                for (int f = 0; f < flips; f++) {
                    m[rnd.nextInt(m.length)] = (byte) rnd.nextInt(256);
                }
                try {
                    parse(m);
                } catch (CheckpointException expected) {
                    // fine
                }
            }
            for (int i = 0; i < 5_000; i++) {
                byte[] m = new byte[rnd.nextInt(64)];
                rnd.nextBytes(m);
                try {
                    parse(m);
                } catch (CheckpointException expected) {
                    // fine
                }
            }
        });
    }
}
