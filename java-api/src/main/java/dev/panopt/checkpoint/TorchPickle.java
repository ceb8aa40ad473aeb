package dev.panopt.checkpoint;

import dev.panopt.DType;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A restricted pickle interpreter for the {@code data.pkl} record of a {@code torch.save} zip checkpoint
 * holding a state dict. It never executes, imports or instantiates anything named by the pickle: it only
 * builds inert Java values and recognises a fixed allow-list of callables by name.
 *
 * <p>Accepted opcodes (protocol 0–5 opcodes that state dicts use): PROTO, FRAME, STOP, MARK, EMPTY_DICT,
 * EMPTY_TUPLE, EMPTY_LIST, BINPUT, LONG_BINPUT, MEMOIZE, BINGET, LONG_BINGET, BINUNICODE,
 * SHORT_BINUNICODE, BINUNICODE8, GLOBAL, STACK_GLOBAL, BININT, BININT1, BININT2, LONG1 (up to 8 bytes),
 * TUPLE, TUPLE1, TUPLE2, TUPLE3, BINPERSID, NEWTRUE, NEWFALSE, NONE, REDUCE, BUILD, SETITEM, SETITEMS,
 * APPEND, APPENDS, BINFLOAT. Any other opcode is an error.
 *
 * <p>Allowed globals: {@code collections.OrderedDict} (called with no arguments), {@code
 * torch._utils._rebuild_tensor_v2}, {@code torch._utils._rebuild_parameter} (unwrapped to its tensor), and
 * the storage types {@code torch.{Half,Float,BFloat16,Double,Long,Int,Short,Char,Byte,Bool}Storage} (only
 * inside persistent ids). BUILD is accepted only on an OrderedDict with a dict or None state (torch's
 * {@code _metadata}), which is ignored. A persistent id must be {@code ('storage', StorageType, key,
 * location, numel)}.
 *
 * <p>Limits: the stack holds at most {@link #MAX_STACK} values, marks nest at most {@link #MAX_STACK}
 * deep, the memo holds at most {@link #MAX_MEMO} entries, every length is checked against the bytes that
 * remain, integers must fit a Java {@code long}. Errors are {@link CheckpointException}s naming the record,
 * the opcode (or global) and its byte offset. Nothing recurses over pickled values, so hostile nesting or
 * self-referencing containers cannot overflow the Java stack.
 *
 * <p>Thread-safety: stateless static entry point; results are immutable.
 */
final class TorchPickle {
    /** Most values on the stack (and nested marks). */
    public static final int MAX_STACK = 1 << 20;
    /** Most memo entries. */
    public static final int MAX_MEMO = 1 << 22;
    /** Highest pickle protocol accepted. */
    public static final int MAX_PROTOCOL = 5;

    private TorchPickle() {}

    /**
     * A storage as named by a persistent id {@code ('storage', type, key, location, numel)}.
     *
     * @param key      the storage's record name under {@code data/}
     * @param dtype    element type of the storage type
     * @param location the device it was saved from (informational)
     * @param numel    number of elements of the storage
     */
    public record StorageRef(String key, DType dtype, String location, long numel) {}

    /**
     * One tensor of the state dict: a view of a storage, as {@code _rebuild_tensor_v2} describes it.
     *
     * @param storage the storage
     * @param offset  storage offset in elements
     * @param size    shape (copied)
     * @param stride  strides in elements (copied)
     */
    public record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {
        public TensorRef {
            size = size.clone();
            stride = stride.clone();
        }

        @Override
        public long[] size() {
            return size.clone();
        }

        @Override
        public long[] stride() {
            return stride.clone();
        }

        @Override
        public String toString() {
            return "TensorRef[" + storage + ", offset " + offset + ", size " + Arrays.toString(size) + ", stride "
                    + Arrays.toString(stride) + "]";
        }
    }

    private static final Map<String, DType> STORAGE_TYPES = Map.of(
            "HalfStorage", DType.F16,
            "FloatStorage", DType.F32,
            "BFloat16Storage", DType.BF16,
            "DoubleStorage", DType.F64,
            "LongStorage", DType.I64,
            "IntStorage", DType.I32,
            "ShortStorage", DType.I16,
            "CharStorage", DType.I8,
            "ByteStorage", DType.U8,
            "BoolStorage", DType.BOOL);

    // ---- inert values; identity equality, no recursive toString/hashCode ----

    /** Python None. */
    private enum None { NONE }

    /** An allow-listed global, by name. */
    private record Global(String module, String name) {
        @Override
        public String toString() {
            return module + "." + name;
        }
    }

    /** A tuple; immutable list of values. */
    private static final class Tuple {
        final List<Object> items;

        Tuple(List<Object> items) {
            this.items = List.copyOf(items);
        }
    }

    /** A list. */
    private static final class PList {
        final List<Object> items = new ArrayList<>();
    }

    /** A dict or OrderedDict; keys are String or Long. */
    private static final class PDict {
        final LinkedHashMap<Object, Object> items = new LinkedHashMap<>();
        final boolean ordered;

        PDict(boolean ordered) {
            this.ordered = ordered;
        }
    }

    private static final Object MARK = new Object();

    /**
     * Interprets {@code pkl} and returns the state dict: tensor name → tensor, in the pickle's order.
     *
     * @param file   the checkpoint file, for messages
     * @param record the record's name inside the archive, for messages
     * @param pkl    the record's bytes
     * @throws CheckpointException if the pickle is malformed, uses anything outside the allow-list, or is
     *                             not a flat dict of name → tensor
     */
    public static Map<String, TensorRef> parseStateDict(Path file, String record, byte[] pkl)
            throws CheckpointException {
        return new Machine(file, record, pkl).run();
    }

    private static final class Machine {
        private final Path file;
        private final String record;
        private final byte[] b;
        private int pos;
        private int opPos; // offset of the current opcode
        private int op;
        private final ArrayList<Object> stack = new ArrayList<>();
        private final ArrayList<Integer> marks = new ArrayList<>();
        private final HashMap<Long, Object> memo = new HashMap<>();
        private final HashMap<String, StorageRef> storages = new HashMap<>();

        Machine(Path file, String record, byte[] b) {
            this.file = file;
            this.record = record;
            this.b = b;
        }

        private CheckpointException bad(String problem) {
            return new CheckpointException(file, record + ": " + opName(op) + " at byte " + opPos + ": " + problem);
        }

        private CheckpointException badAt(int at, String problem) {
            return new CheckpointException(file, record + ": at byte " + at + ": " + problem);
        }

        // ---- reading arguments ----

        private void need(long n) throws CheckpointException {
            if (n < 0 || n > b.length - pos) {
                throw bad("argument of " + n + " bytes runs past the end of the pickle (" + (b.length - pos)
                        + " left): truncated");
            }
        }

        private int u8() throws CheckpointException {
            need(1);
            return b[pos++] & 0xFF;
        }

        private int u16() throws CheckpointException {
            need(2);
            int v = (b[pos] & 0xFF) | (b[pos + 1] & 0xFF) << 8;
            pos += 2;
            return v;
        }

        private int s32() throws CheckpointException {
            need(4);
            int v = (b[pos] & 0xFF) | (b[pos + 1] & 0xFF) << 8 | (b[pos + 2] & 0xFF) << 16 | (b[pos + 3] & 0xFF) << 24;
            pos += 4;
            return v;
        }

        private long s64() throws CheckpointException {
            need(8);
            long v = 0;
            for (int i = 7; i >= 0; i--) {
                v = (v << 8) | (b[pos + i] & 0xFF);
            }
            pos += 8;
            return v;
        }

        private String utf8(long len) throws CheckpointException {
            need(len);
            try {
                String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(b, pos, (int) len)).toString();
                pos += (int) len;
                return s;
            } catch (CharacterCodingException e) {
                throw bad("string is not valid UTF-8");
            }
        }

        /** A newline-terminated ASCII line (GLOBAL's arguments), at most 256 bytes. */
        private String line() throws CheckpointException {
            int start = pos;
            for (int i = pos; i < b.length && i - start <= 256; i++) {
                if (b[i] == '\n') {
                    for (int j = start; j < i; j++) {
                        if (b[j] < 0x20 || b[j] > 0x7E) {
                            throw bad("GLOBAL name contains a non-printable or non-ASCII byte");
                        }
                    }
                    pos = i + 1;
                    return new String(b, start, i - start, StandardCharsets.US_ASCII);
                }
            }
            throw bad("GLOBAL name is not newline-terminated within 256 bytes (truncated?)");
        }

        // ---- stack ----

        private void push(Object v) throws CheckpointException {
            if (stack.size() >= MAX_STACK) {
                throw bad("stack exceeds " + MAX_STACK + " values");
            }
            stack.add(v);
        }

        private Object pop() throws CheckpointException {
            int base = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
            if (stack.size() <= base) {
                throw bad("stack underflow" + (marks.isEmpty() ? "" : " (would cross a MARK)"));
            }
            return stack.remove(stack.size() - 1);
        }

        private Object peek() throws CheckpointException {
            int base = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
            if (stack.size() <= base) {
                throw bad("stack underflow" + (marks.isEmpty() ? "" : " (would cross a MARK)"));
            }
            return stack.get(stack.size() - 1);
        }

        /** Pops everything above the topmost mark, and the mark. */
        private List<Object> popMark() throws CheckpointException {
            if (marks.isEmpty()) {
                throw bad("no MARK on the stack");
            }
            int base = marks.remove(marks.size() - 1);
            List<Object> sub = stack.subList(base, stack.size());
            List<Object> items = new ArrayList<>(sub);
            sub.clear();
            return items;
        }

        private void memoPut(long index, Object v) throws CheckpointException {
            if (index < 0) {
                throw bad("negative memo index " + index);
            }
            if (!memo.containsKey(index) && memo.size() >= MAX_MEMO) {
                throw bad("memo exceeds " + MAX_MEMO + " entries");
            }
            if (v == MARK) {
                throw bad("cannot memoize a MARK");
            }
            memo.put(index, v);
        }

        private Object memoGet(long index) throws CheckpointException {
            Object v = memo.get(index);
            if (v == null) {
                throw bad("memo index " + index + " was never stored");
            }
            return v;
        }

        // ---- the loop ----

        Map<String, TensorRef> run() throws CheckpointException {
            if (b.length == 0) {
                throw badAt(0, "empty pickle");
            }
            while (true) {
                if (pos >= b.length) {
                    throw badAt(pos, "pickle ends without STOP: truncated");
                }
                opPos = pos;
                op = b[pos++] & 0xFF;
                switch (op) {
                    case 0x80 -> { // PROTO
                        int proto = u8();
                        if (proto < 2 || proto > MAX_PROTOCOL) {
                            throw bad("unsupported pickle protocol " + proto + " (need 2.." + MAX_PROTOCOL + ")");
                        }
                    }
                    case 0x95 -> { // FRAME: a length hint; the framed opcodes follow inline
                        long len = s64();
                        if (len < 0 || len > b.length - pos) {
                            throw bad("frame of " + Long.toUnsignedString(len) + " bytes runs past the end of the pickle");
                        }
                    }
                    case '.' -> { // STOP
                        if (!marks.isEmpty()) {
                            throw bad("STOP with an unclosed MARK");
                        }
                        if (stack.size() != 1) {
                            throw bad("STOP with " + stack.size() + " values on the stack (need exactly 1)");
                        }
                        if (pos != b.length) {
                            throw bad((b.length - pos) + " trailing bytes after STOP");
                        }
                        return result(stack.get(0));
                    }
                    case '(' -> { // MARK
                        if (marks.size() >= MAX_STACK) {
                            throw bad("MARKs nest deeper than " + MAX_STACK);
                        }
                        marks.add(stack.size());
                    }
                    case '}' -> push(new PDict(false)); // EMPTY_DICT
                    case ')' -> push(new Tuple(List.of())); // EMPTY_TUPLE
                    case ']' -> push(new PList()); // EMPTY_LIST
                    case 'q' -> memoPut(u8(), peek()); // BINPUT
                    case 'r' -> memoPut(Integer.toUnsignedLong(s32()), peek()); // LONG_BINPUT
                    case 0x94 -> memoPut(memo.size(), peek()); // MEMOIZE
                    case 'h' -> push(memoGet(u8())); // BINGET
                    case 'j' -> push(memoGet(Integer.toUnsignedLong(s32()))); // LONG_BINGET
                    case 'X' -> push(utf8(Integer.toUnsignedLong(s32()))); // BINUNICODE
                    case 0x8c -> push(utf8(u8())); // SHORT_BINUNICODE
                    case 0x8d -> { // BINUNICODE8
                        long len = s64();
                        if (len < 0) {
                            throw bad("string length " + Long.toUnsignedString(len) + " runs past the end of the pickle");
                        }
                        push(utf8(len));
                    }
                    case 'c' -> { // GLOBAL
                        String module = line();
                        String name = line();
                        push(global(module, name));
                    }
                    case 0x93 -> { // STACK_GLOBAL
                        Object name = pop();
                        Object module = pop();
                        if (!(module instanceof String m) || !(name instanceof String n)) {
                            throw bad("STACK_GLOBAL needs two strings, got " + describe(module) + " and " + describe(name));
                        }
                        push(global(m, n));
                    }
                    case 'J' -> push((long) s32()); // BININT
                    case 'K' -> push((long) u8()); // BININT1
                    case 'M' -> push((long) u16()); // BININT2
                    case 0x8a -> { // LONG1
                        int n = u8();
                        if (n > 8) {
                            throw bad("integer of " + n + " bytes does not fit 64 bits");
                        }
                        need(n);
                        long v = 0;
                        for (int i = n - 1; i >= 0; i--) {
                            v = (v << 8) | (b[pos + i] & 0xFF);
                        }
                        if (n > 0 && n < 8 && (b[pos + n - 1] & 0x80) != 0) {
                            v |= -1L << (8 * n); // sign-extend
                        }
                        pos += n;
                        push(v);
                    }
                    case 't' -> push(new Tuple(popMark())); // TUPLE
                    case 0x85 -> push(new Tuple(List.of(pop()))); // TUPLE1
                    case 0x86 -> { // TUPLE2
                        Object b2 = pop();
                        Object a = pop();
                        push(new Tuple(List.of(a, b2)));
                    }
                    case 0x87 -> { // TUPLE3
                        Object c = pop();
                        Object b2 = pop();
                        Object a = pop();
                        push(new Tuple(List.of(a, b2, c)));
                    }
                    case 'Q' -> push(persistentLoad(pop())); // BINPERSID
                    case 0x88 -> push(Boolean.TRUE); // NEWTRUE
                    case 0x89 -> push(Boolean.FALSE); // NEWFALSE
                    case 'N' -> push(None.NONE); // NONE
                    case 'R' -> { // REDUCE
                        Object args = pop();
                        Object callable = pop();
                        push(reduce(callable, args));
                    }
                    case 'b' -> { // BUILD
                        Object state = pop();
                        Object target = peek();
                        if (!(target instanceof PDict d) || !d.ordered) {
                            throw bad("BUILD is only accepted on an OrderedDict, not on " + describe(target));
                        }
                        if (!(state instanceof PDict) && state != None.NONE) {
                            throw bad("BUILD state of an OrderedDict must be a dict or None, got " + describe(state));
                        }
                        // The state is the dict's attributes (torch's _metadata): ignored.
                    }
                    case 's' -> { // SETITEM
                        Object v = pop();
                        Object k = pop();
                        setItem(peek(), k, v);
                    }
                    case 'u' -> { // SETITEMS
                        List<Object> kv = popMark();
                        if (kv.size() % 2 != 0) {
                            throw bad("odd number of values (" + kv.size() + ") for key/value pairs");
                        }
                        Object d = peek();
                        for (int i = 0; i < kv.size(); i += 2) {
                            setItem(d, kv.get(i), kv.get(i + 1));
                        }
                    }
                    case 'a' -> { // APPEND
                        Object v = pop();
                        list(peek()).items.add(v);
                    }
                    case 'e' -> { // APPENDS
                        List<Object> vs = popMark();
                        list(peek()).items.addAll(vs);
                    }
                    case 'G' -> { // BINFLOAT (big-endian)
                        need(8);
                        long bits = 0;
                        for (int i = 0; i < 8; i++) {
                            bits = (bits << 8) | (b[pos + i] & 0xFF);
                        }
                        pos += 8;
                        push(Double.longBitsToDouble(bits));
                    }
                    default -> throw bad("opcode not accepted in a torch state dict (only a restricted subset of"
                            + " pickle is interpreted)");
                }
            }
        }

        private PList list(Object o) throws CheckpointException {
            if (!(o instanceof PList l)) {
                throw bad("target is " + describe(o) + ", not a list");
            }
            return l;
        }

        private void setItem(Object target, Object k, Object v) throws CheckpointException {
            if (!(target instanceof PDict d)) {
                throw bad("target is " + describe(target) + ", not a dict");
            }
            if (!(k instanceof String) && !(k instanceof Long)) {
                throw bad("dict key must be a string or an integer, got " + describe(k));
            }
            if (d.items.containsKey(k)) {
                throw bad("duplicate dict key " + describe(k));
            }
            d.items.put(k, v);
        }

        private Global global(String module, String name) throws CheckpointException {
            boolean ok = switch (module) {
                case "collections" -> name.equals("OrderedDict");
                case "torch._utils" -> name.equals("_rebuild_tensor_v2") || name.equals("_rebuild_parameter");
                case "torch" -> STORAGE_TYPES.containsKey(name);
                default -> false;
            };
            if (!ok && module.equals("torch") && name.endsWith("Storage")) {
                throw bad("storage type torch." + printable(name) + " is not supported (supported: "
                        + new TreeSet<>(STORAGE_TYPES.keySet()) + ")");
            }
            if (!ok) {
                throw bad("global " + printable(module) + "." + printable(name) + " is not allowed (a state dict may"
                        + " only reference collections.OrderedDict, torch._utils._rebuild_tensor_v2,"
                        + " torch._utils._rebuild_parameter and torch.*Storage types)");
            }
            return new Global(module, name);
        }

        private Object persistentLoad(Object pid) throws CheckpointException {
            if (!(pid instanceof Tuple t) || t.items.size() != 5 || !"storage".equals(t.items.get(0))) {
                throw bad("persistent id must be ('storage', StorageType, key, location, numel), got " + describe(pid));
            }
            List<Object> it = t.items;
            if (!(it.get(1) instanceof Global g) || !g.module().equals("torch") || !STORAGE_TYPES.containsKey(g.name())) {
                throw bad("persistent id's storage type must be a torch.*Storage, got " + describe(it.get(1)));
            }
            if (!(it.get(2) instanceof String key) || !validKey(key)) {
                throw bad("persistent id's storage key must be a non-empty name without '/', '\\\\' or '..', got "
                        + describe(it.get(2)));
            }
            if (!(it.get(3) instanceof String location)) {
                throw bad("persistent id's location must be a string, got " + describe(it.get(3)));
            }
            if (!(it.get(4) instanceof Long numel) || numel < 0) {
                throw bad("persistent id's numel must be a non-negative integer, got " + describe(it.get(4)));
            }
            StorageRef ref = new StorageRef(key, STORAGE_TYPES.get(g.name()), location, numel);
            StorageRef prev = storages.putIfAbsent(key, ref);
            if (prev != null) {
                if (prev.dtype() != ref.dtype() || prev.numel() != ref.numel()) {
                    throw bad("storage " + key + " is described twice differently: " + prev + " and " + ref);
                }
                return prev;
            }
            return ref;
        }

        private static boolean validKey(String key) {
            return !key.isEmpty() && key.length() <= 256 && key.indexOf('/') < 0 && key.indexOf('\\') < 0
                    && key.indexOf('\0') < 0 && !key.equals(".") && !key.equals("..");
        }

        private Object reduce(Object callable, Object args) throws CheckpointException {
            if (!(callable instanceof Global g)) {
                throw bad("REDUCE of " + describe(callable) + ", which is not an allowed callable");
            }
            if (!(args instanceof Tuple t)) {
                throw bad("REDUCE arguments must be a tuple, got " + describe(args));
            }
            List<Object> a = t.items;
            String fn = g.toString();
            switch (fn) {
                case "collections.OrderedDict" -> {
                    if (!a.isEmpty()) {
                        throw bad("collections.OrderedDict may only be called without arguments, got " + a.size());
                    }
                    return new PDict(true);
                }
                case "torch._utils._rebuild_tensor_v2" -> {
                    return rebuildTensor(a);
                }
                case "torch._utils._rebuild_parameter" -> {
                    if (a.size() != 3 || !(a.get(0) instanceof TensorRef tensor) || !(a.get(1) instanceof Boolean)
                            || !emptyDict(a.get(2))) {
                        throw bad("torch._utils._rebuild_parameter needs (tensor, requires_grad, empty hooks dict), got "
                                + describeArgs(a));
                    }
                    return tensor;
                }
                default -> throw bad("REDUCE of " + fn + ", which is not an allowed callable");
            }
        }

        private TensorRef rebuildTensor(List<Object> a) throws CheckpointException {
            String fn = "torch._utils._rebuild_tensor_v2";
            if (a.size() != 6 && a.size() != 7) {
                throw bad(fn + " needs (storage, offset, size, stride, requires_grad, hooks[, metadata]), got "
                        + describeArgs(a));
            }
            if (!(a.get(0) instanceof StorageRef storage)) {
                throw bad(fn + ": storage must be a persistent storage id, got " + describe(a.get(0)));
            }
            if (!(a.get(1) instanceof Long offset) || offset < 0) {
                throw bad(fn + ": storage offset must be a non-negative integer, got " + describe(a.get(1)));
            }
            long[] size = longs(a.get(2), fn + ": size");
            long[] stride = longs(a.get(3), fn + ": stride");
            for (long d : size) {
                if (d < 0) {
                    throw bad(fn + ": negative dimension in size " + Arrays.toString(size));
                }
            }
            for (long s : stride) {
                if (s < 0) {
                    throw bad(fn + ": negative stride in " + Arrays.toString(stride));
                }
            }
            if (size.length != stride.length) {
                throw bad(fn + ": size " + Arrays.toString(size) + " and stride " + Arrays.toString(stride)
                        + " differ in rank");
            }
            if (!(a.get(4) instanceof Boolean)) {
                throw bad(fn + ": requires_grad must be a bool, got " + describe(a.get(4)));
            }
            if (!emptyDict(a.get(5))) {
                throw bad(fn + ": backward hooks must be an empty dict, got " + describe(a.get(5)));
            }
            if (a.size() == 7 && a.get(6) != None.NONE && !emptyDict(a.get(6))) {
                throw bad(fn + ": tensor metadata " + describe(a.get(6)) + " is not supported (only None or empty)");
            }
            return new TensorRef(storage, offset, size, stride);
        }

        private static boolean emptyDict(Object o) {
            return o instanceof PDict d && d.items.isEmpty();
        }

        private long[] longs(Object o, String what) throws CheckpointException {
            if (!(o instanceof Tuple t)) {
                throw bad(what + " must be a tuple of integers, got " + describe(o));
            }
            long[] out = new long[t.items.size()];
            for (int i = 0; i < out.length; i++) {
                if (!(t.items.get(i) instanceof Long v)) {
                    throw bad(what + " must be a tuple of integers, got element " + describe(t.items.get(i)));
                }
                out[i] = v;
            }
            return out;
        }

        private Map<String, TensorRef> result(Object top) throws CheckpointException {
            if (!(top instanceof PDict d)) {
                throw bad("the pickle must hold a dict of name -> tensor (a state dict), got " + describe(top));
            }
            LinkedHashMap<String, TensorRef> out = new LinkedHashMap<>();
            for (Map.Entry<Object, Object> e : d.items.entrySet()) {
                if (!(e.getKey() instanceof String name)) {
                    throw bad("state dict key " + describe(e.getKey()) + " is not a string");
                }
                if (!(e.getValue() instanceof TensorRef t)) {
                    throw bad("state dict entry " + printable(name) + " is " + describe(e.getValue())
                            + ", not a tensor (nested or non-tensor state dicts are not supported)");
                }
                out.put(name, t);
            }
            return Collections.unmodifiableMap(out);
        }
    }

    // ---- messages ----

    private static String describeArgs(List<Object> a) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < a.size() && i < 8; i++) {
            sb.append(i == 0 ? "" : ", ").append(describe(a.get(i)));
        }
        return sb.append(a.size() > 8 ? ", ...)" : ")").toString();
    }

    /** A short, non-recursive description of a value. */
    static String describe(Object o) {
        if (o == null) {
            return "nothing";
        }
        if (o == None.NONE) {
            return "None";
        }
        if (o instanceof String s) {
            return "'" + printable(s) + "'";
        }
        if (o instanceof Long || o instanceof Boolean || o instanceof Double) {
            return o.toString();
        }
        if (o instanceof Global g) {
            return "global " + g;
        }
        if (o instanceof Tuple t) {
            return "a tuple of " + t.items.size();
        }
        if (o instanceof PList l) {
            return "a list of " + l.items.size();
        }
        if (o instanceof PDict d) {
            return (d.ordered ? "an OrderedDict of " : "a dict of ") + d.items.size();
        }
        if (o instanceof StorageRef s) {
            return "storage " + printable(s.key());
        }
        if (o instanceof TensorRef) {
            return "a tensor";
        }
        if (o == MARK) {
            return "MARK";
        }
        return o.getClass().getSimpleName();
    }

    /** At most 80 characters, control characters escaped. */
    static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length() && i < 80; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7F) {
                sb.append(String.format("\\x%02x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return s.length() > 80 ? sb + "..." : sb.toString();
    }

    private static String opName(int op) {
        String name = switch (op) {
            case 0x80 -> "PROTO";
            case 0x95 -> "FRAME";
            case '.' -> "STOP";
            case '(' -> "MARK";
            case '}' -> "EMPTY_DICT";
            case ')' -> "EMPTY_TUPLE";
            case ']' -> "EMPTY_LIST";
            case 'q' -> "BINPUT";
            case 'r' -> "LONG_BINPUT";
            case 0x94 -> "MEMOIZE";
            case 'h' -> "BINGET";
            case 'j' -> "LONG_BINGET";
            case 'X' -> "BINUNICODE";
            case 0x8c -> "SHORT_BINUNICODE";
            case 0x8d -> "BINUNICODE8";
            case 'c' -> "GLOBAL";
            case 0x93 -> "STACK_GLOBAL";
            case 'J' -> "BININT";
            case 'K' -> "BININT1";
            case 'M' -> "BININT2";
            case 0x8a -> "LONG1";
            case 't' -> "TUPLE";
            case 0x85 -> "TUPLE1";
            case 0x86 -> "TUPLE2";
            case 0x87 -> "TUPLE3";
            case 'Q' -> "BINPERSID";
            case 0x88 -> "NEWTRUE";
            case 0x89 -> "NEWFALSE";
            case 'N' -> "NONE";
            case 'R' -> "REDUCE";
            case 'b' -> "BUILD";
            case 's' -> "SETITEM";
            case 'u' -> "SETITEMS";
            case 'a' -> "APPEND";
            case 'e' -> "APPENDS";
            case 'G' -> "BINFLOAT";
            case 'i' -> "INST (not accepted)";
            case 'o' -> "OBJ (not accepted)";
            case 0x81 -> "NEWOBJ (not accepted)";
            case 0x92 -> "NEWOBJ_EX (not accepted)";
            case 'P' -> "PERSID (not accepted)";
            default -> "unknown";
        };
        return "opcode " + name + " (0x" + String.format("%02x", op) + ")";
    }
}
