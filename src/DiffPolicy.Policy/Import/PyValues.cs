namespace DiffPolicy.Policy.Import;

/// <summary>A global a pickle names (<c>module.name</c>), admitted by <see cref="PickleReader"/>'s allow-list.</summary>
public sealed record PyGlobal(string Module, string Name)
{
    public string FullName => $"{Module}.{Name}";

    public override string ToString() => FullName;
}

/// <summary>A Python tuple.</summary>
public sealed record PyTuple(IReadOnlyList<object?> Items);

/// <summary>
/// An instance of an allowed class, built by <c>NEWOBJ</c> (never by running its code): its class and the
/// <c>__dict__</c> that <c>BUILD</c> gave it.
/// </summary>
public sealed class PyObject(PyGlobal type)
{
    public PyGlobal Type { get; } = type;

    public Dictionary<string, object?> State { get; } = new(StringComparer.Ordinal);

    public object? Get(string name) => State.TryGetValue(name, out var value) ? value : null;
}

/// <summary>A Python type named by value (<c>typing.Any</c>, <c>dill._dill._load_type('dict')</c>): data, never called.</summary>
public sealed record PyTypeRef(string Name);

/// <summary>
/// A tensor as <c>torch._utils._rebuild_tensor_v2</c> describes it: a view (offset, size, stride, in elements) of a
/// storage kept in the zip under <c>data/</c><see cref="StorageKey"/>. Read only when asked for.
/// </summary>
public sealed record TensorRef(string StorageKey, string StorageType, long StorageElements, long Offset, long[] Size, long[] Stride);
