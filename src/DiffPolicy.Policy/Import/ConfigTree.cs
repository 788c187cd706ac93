using System.Globalization;

namespace DiffPolicy.Policy.Import;

/// <summary>
/// A workspace config as OmegaConf pickles it (<c>DictConfig</c>/<c>ListConfig</c> containers holding value nodes in
/// <c>_content</c>), turned into plain nodes with parent links: maps, lists and scalars, interpolation strings kept as
/// written. <see cref="ConfigResolver"/> resolves them on demand.
/// </summary>
public abstract class ConfigNode
{
    public ConfigNode? Parent { get; internal set; }

    /// <summary>The key or index under the parent, for messages.</summary>
    public string Key { get; internal set; } = "";

    public string Path => Parent is null ? "" : Parent.Path.Length == 0 ? Key : Parent is ConfigList ? $"{Parent.Path}[{Key}]" : $"{Parent.Path}.{Key}";

    /// <summary>Builds the tree from an unpickled <c>omegaconf.dictconfig.DictConfig</c>.</summary>
    public static ConfigNode FromPickle(object? value, string source)
    {
        try
        {
            return Convert(value);
        }
        catch (InvalidCastException e)
        {
            throw new InvalidDataException($"'{source}': the config is not an OmegaConf object graph: {e.Message}", e);
        }
    }

    static ConfigNode Convert(object? value)
    {
        switch (value)
        {
            case PyObject { Type.Name: "DictConfig" } dict:
                {
                    var content = dict.Get("_content");
                    if (content is string or null) return new ConfigValue(content);
                    var map = new ConfigMap();
                    foreach (var (key, item) in (OrderedDictionary<object, object?>)content)
                        map.Add(KeyText(key), Convert(item));
                    return map;
                }
            case PyObject { Type.Name: "ListConfig" } list:
                {
                    var content = list.Get("_content");
                    if (content is string or null) return new ConfigValue(content);
                    var result = new ConfigList();
                    foreach (var item in (List<object?>)content) result.Add(Convert(item));
                    return result;
                }
            case PyObject { Type.Module: "omegaconf.nodes" } node:
                return new ConfigValue(Scalar(node.Get("_val")));
            default:
                // Containers of a plain (not OmegaConf) kind do not appear in a hydra config; scalars may.
                return new ConfigValue(Scalar(value));
        }
    }

    static object? Scalar(object? value) => value switch
    {
        null or bool or long or double or string => value,
        _ => throw new InvalidCastException($"a config value of type {value.GetType().Name}"),
    };

    static string KeyText(object key) => key switch
    {
        string s => s,
        long l => l.ToString(CultureInfo.InvariantCulture),
        bool b => b ? "True" : "False",
        _ => throw new InvalidCastException($"a config key of type {key.GetType().Name}"),
    };
}

public sealed class ConfigMap : ConfigNode
{
    readonly OrderedDictionary<string, ConfigNode> items = new(StringComparer.Ordinal);

    public IEnumerable<KeyValuePair<string, ConfigNode>> Items => items;

    public ConfigNode? this[string key] => items.TryGetValue(key, out var node) ? node : null;

    public void Add(string key, ConfigNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        node.Parent = this;
        node.Key = key;
        items[key] = node;
    }
}

public sealed class ConfigList : ConfigNode
{
    readonly List<ConfigNode> items = [];

    public IReadOnlyList<ConfigNode> Items => items;

    public void Add(ConfigNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        node.Parent = this;
        node.Key = items.Count.ToString(CultureInfo.InvariantCulture);
        items.Add(node);
    }
}

/// <summary>A scalar: null, bool, long, double, or a string (which may hold <c>${…}</c> interpolations).</summary>
public sealed class ConfigValue(object? value) : ConfigNode
{
    public object? Value { get; } = value;
}
