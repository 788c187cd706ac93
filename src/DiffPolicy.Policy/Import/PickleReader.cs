using System.Buffers.Binary;
using System.Text;

namespace DiffPolicy.Policy.Import;

/// <summary>
/// A pickle reader that never runs code: it understands the opcodes of protocols 0–4 that <c>torch.save</c> and dill
/// write, and admits only the globals a diffusion_policy workspace checkpoint is made of (tensors and their storages,
/// ordered and default dicts, the OmegaConf node classes, <c>typing.Any</c>, dill's type references, bytes). Classes are
/// instantiated as inert <see cref="PyObject"/>s; any other global is refused before anything is built from it.
/// </summary>
/// <remarks>
/// Values: None → null, bool, int → long, float → double, str → string, bytes → byte[], tuple → <see cref="PyTuple"/>,
/// list → List&lt;object?&gt;, dict → OrderedDictionary&lt;object, object?&gt;, tensors → <see cref="TensorRef"/>.
/// </remarks>
public sealed class PickleReader
{
    /// <summary>Globals a pickle may name, and what each is.</summary>
    static readonly Dictionary<string, GlobalKind> Allowed = new(StringComparer.Ordinal)
    {
        ["collections.OrderedDict"] = GlobalKind.DictFactory,
        ["collections.defaultdict"] = GlobalKind.DictFactory,
        ["builtins.dict"] = GlobalKind.DictFactory,
        ["__builtin__.dict"] = GlobalKind.DictFactory,
        ["torch._utils._rebuild_tensor_v2"] = GlobalKind.RebuildTensor,
        ["torch._utils._rebuild_parameter"] = GlobalKind.RebuildParameter,
        ["_codecs.encode"] = GlobalKind.Encode,
        ["typing.Any"] = GlobalKind.Marker,
        ["dill._dill._load_type"] = GlobalKind.LoadType,
        ["omegaconf.dictconfig.DictConfig"] = GlobalKind.Class,
        ["omegaconf.listconfig.ListConfig"] = GlobalKind.Class,
        ["omegaconf.nodes.AnyNode"] = GlobalKind.Class,
        ["omegaconf.nodes.StringNode"] = GlobalKind.Class,
        ["omegaconf.nodes.IntegerNode"] = GlobalKind.Class,
        ["omegaconf.nodes.FloatNode"] = GlobalKind.Class,
        ["omegaconf.nodes.BooleanNode"] = GlobalKind.Class,
        ["omegaconf.base.ContainerMetadata"] = GlobalKind.Class,
        ["omegaconf.base.Metadata"] = GlobalKind.Class,
    };

    /// <summary>Storage classes of <c>torch.save</c>'s persistent ids.</summary>
    static readonly HashSet<string> StorageTypes = new(StringComparer.Ordinal)
    {
        "FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage", "LongStorage", "IntStorage", "ShortStorage",
        "CharStorage", "ByteStorage", "BoolStorage",
    };

    /// <summary>Type names dill may reference by value (<c>_load_type</c>).</summary>
    static readonly HashSet<string> LoadableTypes = new(StringComparer.Ordinal)
    {
        "dict", "list", "tuple", "str", "int", "float", "bool", "NoneType", "object", "bytes", "set",
    };

    enum GlobalKind { DictFactory, RebuildTensor, RebuildParameter, Encode, Marker, LoadType, Class, Storage }

    const int MaxLength = 1 << 30;

    readonly byte[] data;
    readonly string source;
    int position;
    readonly List<object?> stack = [];
    readonly List<int> marks = [];
    readonly Dictionary<long, object?> memo = [];

    PickleReader(byte[] data, string source)
    {
        this.data = data;
        this.source = source;
    }

    /// <summary>Reads one pickle; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="InvalidDataException">Malformed input, or a global outside the allow-list (nothing built from it).</exception>
    public static object? Read(byte[] data, string source)
    {
        ArgumentNullException.ThrowIfNull(data);
        try
        {
            return new PickleReader(data, source).Run();
        }
        catch (Exception e) when (e is IndexOutOfRangeException or ArgumentOutOfRangeException or InvalidCastException or KeyNotFoundException or ArgumentException)
        {
            throw new InvalidDataException($"'{source}': malformed pickle: {e.Message}", e);
        }
    }

    object? Run()
    {
        while (true)
        {
            if (position >= data.Length) throw Bad("ends without STOP");
            var op = data[position++];
            switch (op)
            {
                case 0x80: position++; break; // PROTO
                case 0x95: position += 8; break; // FRAME
                case (byte)'.': // STOP
                    if (stack.Count != 1) throw Bad($"STOP with {stack.Count} values on the stack");
                    return stack[0];
                case (byte)'(': marks.Add(stack.Count); break;
                case (byte)'0': Pop(); break;
                case (byte)'1': PopMark(); break;
                case (byte)'2': stack.Add(stack[^1]); break;
                case (byte)'N': stack.Add(null); break;
                case 0x88: stack.Add(true); break;
                case 0x89: stack.Add(false); break;
                case (byte)'}': stack.Add(new OrderedDictionary<object, object?>()); break;
                case (byte)']': stack.Add(new List<object?>()); break;
                case (byte)')': stack.Add(new PyTuple([])); break;
                case (byte)'d': stack.Add(ToDict(PopMark())); break;
                case (byte)'l': stack.Add(PopMark()); break;
                case (byte)'t': stack.Add(new PyTuple(PopMark())); break;
                case 0x85: { var a = Pop(); stack.Add(new PyTuple([a])); break; }
                case 0x86: { var b = Pop(); var a = Pop(); stack.Add(new PyTuple([a, b])); break; }
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); stack.Add(new PyTuple([a, b, c])); break; }
                case (byte)'a': { var v = Pop(); AsList(stack[^1]).Add(v); break; }
                case (byte)'e': { var items = PopMark(); AsList(stack[^1]).AddRange(items); break; }
                case (byte)'s': { var v = Pop(); var k = Pop(); SetItem(stack[^1], k, v); break; }
                case (byte)'u':
                    {
                        var items = PopMark();
                        if (items.Count % 2 != 0) throw Bad("SETITEMS with an odd number of values");
                        for (var i = 0; i < items.Count; i += 2) SetItem(stack[^1], items[i], items[i + 1]);
                        break;
                    }
                case (byte)'q': memo[data[position++]] = stack[^1]; break;
                case (byte)'r': memo[ReadUInt32()] = stack[^1]; break;
                case 0x94: memo[memo.Count] = stack[^1]; break;
                case (byte)'h': stack.Add(Memo(data[position++])); break;
                case (byte)'j': stack.Add(Memo(ReadUInt32())); break;
                case (byte)'J': stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                case (byte)'K': stack.Add((long)data[position++]); break;
                case (byte)'M': stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                case 0x8a: stack.Add(ReadLong(data[position++])); break;
                case 0x8b: stack.Add(ReadLong(checked((int)ReadUInt32()))); break;
                case (byte)'G': stack.Add(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break;
                case (byte)'X': stack.Add(Encoding.UTF8.GetString(Take(checked((int)ReadUInt32())))); break;
                case 0x8c: stack.Add(Encoding.UTF8.GetString(Take(data[position++]))); break;
                case 0x8d: stack.Add(Encoding.UTF8.GetString(Take(checked((int)ReadUInt64())))); break;
                case (byte)'B': stack.Add(Take(checked((int)ReadUInt32())).ToArray()); break;
                case (byte)'C': stack.Add(Take(data[position++]).ToArray()); break;
                case (byte)'T': stack.Add(Encoding.Latin1.GetString(Take(checked((int)ReadUInt32())))); break;
                case (byte)'U': stack.Add(Encoding.Latin1.GetString(Take(data[position++]))); break;
                case (byte)'c': stack.Add(Global(ReadLine(), ReadLine())); break;
                case 0x93: { var name = Pop() as string; var module = Pop() as string; stack.Add(Global(module ?? throw Bad("STACK_GLOBAL module"), name ?? throw Bad("STACK_GLOBAL name"))); break; }
                case (byte)'R': { var args = Pop(); var callable = Pop(); stack.Add(Reduce(callable, args)); break; }
                case 0x81: { var args = Pop(); var type = Pop(); stack.Add(NewObject(type, args)); break; }
                case (byte)'b': { var state = Pop(); Build(stack[^1], state); break; }
                case (byte)'Q': stack.Add(PersistentLoad(Pop())); break;
                default:
                    throw Bad($"opcode 0x{op:x2} is not supported");
            }
        }
    }

    InvalidDataException Bad(string what) => new($"'{source}': malformed pickle at byte {position}: {what}.");

    object? Pop()
    {
        if (stack.Count == 0 || (marks.Count > 0 && stack.Count == marks[^1])) throw Bad("stack underflow");
        var value = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        return value;
    }

    List<object?> PopMark()
    {
        if (marks.Count == 0) throw Bad("no MARK");
        var mark = marks[^1];
        marks.RemoveAt(marks.Count - 1);
        var items = stack.GetRange(mark, stack.Count - mark);
        stack.RemoveRange(mark, stack.Count - mark);
        return items;
    }

    object? Memo(long index) => memo.TryGetValue(index, out var value) ? value : throw Bad($"memo {index} is not set");

    ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > MaxLength || position + count > data.Length) throw Bad($"a length of {count} runs past the end");
        var span = data.AsSpan(position, count);
        position += count;
        return span;
    }

    uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    long ReadLong(int length)
    {
        var bytes = Take(length);
        if (length == 0) return 0;
        if (length > 8) throw Bad($"an integer of {length} bytes is out of range");
        long value = 0;
        for (var i = length - 1; i >= 0; i--) value = (value << 8) | bytes[i];
        var shift = 64 - 8 * length;
        return shift == 0 ? value : (value << shift) >> shift;
    }

    string ReadLine()
    {
        var end = Array.IndexOf(data, (byte)'\n', position);
        if (end < 0 || end - position > 256) throw Bad("GLOBAL without a line end");
        var line = Encoding.ASCII.GetString(data, position, end - position);
        position = end + 1;
        return line;
    }

    static List<object?> AsList(object? value) => value as List<object?> ?? throw new InvalidCastException("APPEND to a value that is not a list");

    static OrderedDictionary<object, object?> ToDict(List<object?> items)
    {
        var dict = new OrderedDictionary<object, object?>();
        for (var i = 0; i + 1 < items.Count; i += 2) dict[items[i] ?? "None"] = items[i + 1];
        return dict;
    }

    void SetItem(object? target, object? key, object? value)
    {
        if (target is not OrderedDictionary<object, object?> dict) throw Bad("SETITEM on a value that is not a dict");
        dict[key switch
        {
            null => "None",
            PyTuple or string or long or bool or double => key,
            _ => throw Bad($"a dict key of type {key.GetType().Name}"),
        }] = value;
    }

    object Global(string module, string name)
    {
        var full = $"{module}.{name}";
        if (module == "torch" && StorageTypes.Contains(name)) return new PyGlobal(module, name);
        if (!Allowed.ContainsKey(full))
        {
            throw new InvalidDataException(
                $"'{source}' refers to the Python global '{full}', which is not one of the classes a diffusion_policy checkpoint is made of " +
                "(tensors, dicts, OmegaConf nodes); refusing it (nothing in the file is executed).");
        }

        return new PyGlobal(module, name);
    }

    GlobalKind KindOf(object? value, string opcode) => value is PyGlobal g
        ? g.Module == "torch" && StorageTypes.Contains(g.Name) ? GlobalKind.Storage : Allowed[g.FullName]
        : throw Bad($"{opcode} of a value that is not a global");

    object? Reduce(object? callable, object? args)
    {
        var items = (args as PyTuple ?? throw Bad("REDUCE arguments are not a tuple")).Items;
        var global = (PyGlobal)callable!;
        switch (KindOf(callable, "REDUCE"))
        {
            case GlobalKind.DictFactory:
                return new OrderedDictionary<object, object?>();
            case GlobalKind.Encode:
                if (items.Count is < 1 or > 2 || items[0] is not string text) throw Bad("_codecs.encode needs a string");
                var encoding = items.Count == 2 ? items[1] as string ?? "utf-8" : "utf-8";
                return encoding is "latin1" or "latin-1" or "iso-8859-1" ? Encoding.Latin1.GetBytes(text) : Encoding.UTF8.GetBytes(text);
            case GlobalKind.LoadType:
                if (items.Count != 1 || items[0] is not string typeName || !LoadableTypes.Contains(typeName))
                {
                    throw new InvalidDataException(
                        $"'{source}' asks dill for the type '{(items.Count > 0 ? items[0] : "")}', which a diffusion_policy checkpoint does not need; refusing it.");
                }

                return new PyTypeRef(typeName);
            case GlobalKind.RebuildTensor:
                if (items.Count < 4 || items[0] is not StorageRef storage || items[1] is not long offset)
                    throw Bad("_rebuild_tensor_v2 arguments");
                return new TensorRef(storage.Key, storage.Type, storage.Elements, offset, Longs(items[2]), Longs(items[3]));
            case GlobalKind.RebuildParameter:
                return items.Count >= 1 && items[0] is TensorRef tensor ? tensor : throw Bad("_rebuild_parameter arguments");
            default:
                throw new InvalidDataException($"'{source}': calling '{global.FullName}' is not supported; refusing it.");
        }
    }

    object NewObject(object? type, object? args)
    {
        var kind = KindOf(type, "NEWOBJ");
        if (kind == GlobalKind.DictFactory) return new OrderedDictionary<object, object?>();
        if (kind != GlobalKind.Class) throw new InvalidDataException($"'{source}': instantiating '{type}' is not supported; refusing it.");
        return new PyObject((PyGlobal)type!);
    }

    void Build(object? target, object? state)
    {
        switch (target)
        {
            case PyObject obj when state is OrderedDictionary<object, object?> dict:
                foreach (var (key, value) in dict) obj.State[key as string ?? throw Bad("BUILD with a non-string attribute")] = value;
                break;
            case PyObject obj when state is PyTuple { Items.Count: 2 } pair && pair.Items[0] is OrderedDictionary<object, object?> dict:
                foreach (var (key, value) in dict) obj.State[(string)key] = value;
                break;
            case OrderedDictionary<object, object?>:
                break; // an OrderedDict's own attributes (a state dict's _metadata): not needed
            case TensorRef:
                break;
            default:
                throw Bad($"BUILD on {target?.GetType().Name ?? "None"}");
        }
    }

    sealed record StorageRef(string Key, string Type, long Elements);

    object PersistentLoad(object? pid)
    {
        if (pid is not PyTuple { Items.Count: >= 5 } t || t.Items[0] is not "storage" || t.Items[1] is not PyGlobal type
            || KindOf(type, "storage") != GlobalKind.Storage || t.Items[2] is not string key || t.Items[4] is not long elements)
        {
            throw Bad("a persistent id that is not a torch storage");
        }

        if (key.Contains('/') || key.Contains('\\') || key.Contains("..", StringComparison.Ordinal)) throw Bad($"storage key '{key}'");
        return new StorageRef(key, type.Name, elements);
    }

    static long[] Longs(object? value) => value is PyTuple t
        ? t.Items.Select(v => v is long l ? l : throw new InvalidCastException("a size or stride that is not an integer")).ToArray()
        : throw new InvalidCastException("a size or stride that is not a tuple");
}
