using System.Globalization;
using System.Text;

namespace DiffPolicy.Policy.Import;

/// <summary>
/// Resolves OmegaConf interpolations on demand, as <c>OmegaConf.to_container(cfg, resolve=True)</c> would for the
/// parts asked for: <c>${a.b}</c> / <c>${.x}</c> node references (a whole-string reference keeps the node's type, a
/// reference inside text becomes its Python <c>str</c>), and the resolvers diffusion_policy's configs use:
/// <c>eval</c> (<see cref="PyExpression"/> on the argument after inner interpolations are substituted) and
/// <c>oc.select</c>. Other resolvers are refused by name. Results: ordered string maps, lists, and scalars
/// (null, bool, long, double, string).
/// </summary>
public sealed class ConfigResolver(ConfigNode root, string source)
{
    readonly HashSet<ConfigNode> resolving = [];

    public ConfigNode Root { get; } = root;

    /// <summary>The resolved value at <paramref name="path"/> (dotted, from the root); throws when it does not exist.</summary>
    public object? Resolve(string path) => ResolveNode(Select(path, Root, absolute: true) ?? throw Missing(path));

    /// <summary>Whether <paramref name="path"/> names a node.</summary>
    public bool Has(string path) => Select(path, Root, absolute: true) is not null;

    public object? ResolveNode(ConfigNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        switch (node)
        {
            case ConfigMap map:
                {
                    var result = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
                    foreach (var (key, child) in map.Items) result[key] = ResolveNode(child);
                    return result;
                }
            case ConfigList list:
                return list.Items.Select(ResolveNode).ToList();
            case ConfigValue { Value: string text }:
                if (text == "???") throw new InvalidDataException($"'{source}': config key '{node.Path}' is missing (???).");
                if (!resolving.Add(node)) throw new InvalidDataException($"'{source}': config key '{node.Path}' refers to itself.");
                try
                {
                    return ResolveText(text, node);
                }
                finally
                {
                    resolving.Remove(node);
                }
            case ConfigValue value:
                return value.Value;
            default:
                throw new InvalidOperationException("unknown node");
        }
    }

    InvalidDataException Missing(string path) => new($"'{source}': the config has no '{path}'.");

    InvalidDataException Error(ConfigNode at, string what) => new($"'{source}': config key '{at.Path}': {what}");

    /// <summary>Pieces of a string: literal text, or the inside of one <c>${…}</c>.</summary>
    static List<(bool Interpolation, string Text)> Split(string text)
    {
        var parts = new List<(bool, string)>();
        var literal = new StringBuilder();
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] == '\\' && i + 2 < text.Length && text[i + 1] == '$' && text[i + 2] == '{')
            {
                literal.Append("${");
                i += 3;
                continue;
            }
            if (text[i] == '$' && i + 1 < text.Length && text[i + 1] == '{')
            {
                var end = MatchingBrace(text, i + 1);
                if (literal.Length > 0) parts.Add((false, literal.ToString()));
                literal.Clear();
                parts.Add((true, text[(i + 2)..end]));
                i = end + 1;
                continue;
            }
            literal.Append(text[i++]);
        }
        if (literal.Length > 0) parts.Add((false, literal.ToString()));
        return parts;
    }

    /// <summary>Index of the '}' closing the '{' at <paramref name="open"/>, skipping quoted text and nested braces.</summary>
    static int MatchingBrace(string text, int open)
    {
        var depth = 0;
        var quote = '\0';
        for (var i = open; i < text.Length; i++)
        {
            var c = text[i];
            if (quote != '\0')
            {
                if (c == '\\') i++;
                else if (c == quote) quote = '\0';
                continue;
            }
            if (c is '\'' or '"') quote = c;
            else if (c == '{') depth++;
            else if (c == '}' && --depth == 0) return i;
        }
        throw new FormatException($"unbalanced '${{' in '{text}'");
    }

    object? ResolveText(string text, ConfigNode at)
    {
        List<(bool Interpolation, string Text)> parts;
        try
        {
            parts = Split(text);
        }
        catch (FormatException e)
        {
            throw Error(at, e.Message);
        }
        if (parts.Count == 1 && parts[0].Interpolation) return Interpolate(parts[0].Text, at);
        if (parts.All(p => !p.Interpolation)) return parts.Count == 0 ? "" : parts[0].Text;
        var sb = new StringBuilder();
        foreach (var (interpolation, piece) in parts) sb.Append(interpolation ? StrOf(Interpolate(piece, at), at) : piece);
        return sb.ToString();
    }

    string StrOf(object? value, ConfigNode at)
    {
        try
        {
            return PyExpression.Str(value);
        }
        catch (FormatException e)
        {
            throw Error(at, e.Message);
        }
    }

    object? Interpolate(string inner, ConfigNode at)
    {
        var body = inner.Trim();
        var colon = ResolverColon(body);
        if (colon < 0)
        {
            var target = Select(body, at, absolute: false) ?? throw Error(at, $"'${{{body}}}' refers to a key that does not exist.");
            return ResolveNode(target);
        }
        var name = body[..colon].Trim();
        var args = SplitArgs(body[(colon + 1)..]);
        switch (name)
        {
            case "eval":
                {
                    if (args.Count != 1) throw Error(at, $"eval takes one argument, got {args.Count}.");
                    var argument = Argument(args[0], at);
                    if (argument is not string expression) return argument;
                    try
                    {
                        return PyExpression.Evaluate(expression);
                    }
                    catch (Exception e) when (e is FormatException or OverflowException)
                    {
                        throw new InvalidDataException($"'{source}': config key '{at.Path}': eval of '{expression}' is not supported: {e.Message}.");
                    }
                }
            case "oc.select":
                {
                    if (args.Count is < 1 or > 2) throw Error(at, $"oc.select takes a key and an optional default, got {args.Count} arguments.");
                    var key = StrOf(Argument(args[0], at), at);
                    var target = Select(key, at, absolute: false);
                    return target is not null ? ResolveNode(target) : args.Count == 2 ? Argument(args[1], at) : null;
                }
            default:
                throw new InvalidDataException(
                    $"'{source}': config key '{at.Path}' uses the resolver '{name}', which is not supported (supported: eval, oc.select).");
        }
    }

    /// <summary>Index of the ':' after a resolver name (letters, digits, '_', '.'), or −1 for a node reference.</summary>
    static int ResolverColon(string body)
    {
        for (var i = 0; i < body.Length; i++)
        {
            var c = body[i];
            if (c == ':') return i > 0 ? i : -1;
            if (!(char.IsLetterOrDigit(c) || c is '_' or '.' or ' ')) return -1;
        }
        return -1;
    }

    static List<string> SplitArgs(string text)
    {
        var args = new List<string>();
        int depth = 0, start = 0;
        var quote = '\0';
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quote != '\0')
            {
                if (c == '\\') i++;
                else if (c == quote) quote = '\0';
                continue;
            }
            if (c is '\'' or '"')
            {
                quote = c;
            }
            else if (c == '{')
            {
                depth++;
            }
            else if (c == '}')
            {
                depth--;
            }
            else if (c == ',' && depth == 0)
            {
                args.Add(text[start..i]);
                start = i + 1;
            }
        }
        args.Add(text[start..]);
        return args;
    }

    /// <summary>A resolver argument: a quoted string (interpolations inside substituted), one interpolation (typed), or unquoted text.</summary>
    object? Argument(string raw, ConfigNode at)
    {
        var arg = raw.Trim();
        if (arg.Length >= 2 && arg[0] is '\'' or '"' && arg[^1] == arg[0])
        {
            var unquoted = new StringBuilder();
            for (var i = 1; i < arg.Length - 1; i++)
            {
                if (arg[i] == '\\' && i + 1 < arg.Length - 1 && arg[i + 1] == arg[0]) i++;
                unquoted.Append(arg[i]);
            }
            var resolved = ResolveText(unquoted.ToString(), at);
            return resolved is string ? resolved : StrOf(resolved, at);
        }
        if (arg.Contains("${", StringComparison.Ordinal)) return ResolveText(arg, at);
        return arg switch
        {
            "null" or "None" => null,
            "true" or "True" => true,
            "false" or "False" => false,
            _ when long.TryParse(arg, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => l,
            _ when double.TryParse(arg, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
            _ => arg,
        };
    }

    /// <summary>
    /// The node at <paramref name="path"/>: from the root, or relative to <paramref name="at"/>'s container when it starts
    /// with dots. A container reached through an interpolation (<c>shape_meta: ${task.shape_meta}</c>) is followed.
    /// </summary>
    ConfigNode? Select(string path, ConfigNode at, bool absolute)
    {
        var node = Root;
        var rest = path.Trim();
        if (!absolute && rest.StartsWith('.'))
        {
            var dots = rest.TakeWhile(c => c == '.').Count();
            node = at.Parent;
            for (var i = 1; i < dots && node is not null; i++) node = node.Parent;
            rest = rest[dots..];
        }
        if (rest.Length == 0) return node;
        foreach (var part in rest.Replace("[", ".", StringComparison.Ordinal).Replace("]", "", StringComparison.Ordinal).Split('.'))
        {
            node = Follow(node);
            node = node switch
            {
                ConfigMap map => map[part],
                ConfigList list when int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < list.Items.Count => list.Items[index],
                _ => null,
            };
            if (node is null) return null;
        }
        return node;
    }

    ConfigNode? Follow(ConfigNode? node)
    {
        for (var hops = 0; node is ConfigValue { Value: string text } && hops < 32; hops++)
        {
            var parts = Split(text);
            if (parts.Count != 1 || !parts[0].Interpolation || ResolverColon(parts[0].Text.Trim()) >= 0) return node;
            node = Select(parts[0].Text, node, absolute: false);
        }
        return node;
    }
}
