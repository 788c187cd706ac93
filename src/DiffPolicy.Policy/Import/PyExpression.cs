using System.Globalization;
using System.Text;

namespace DiffPolicy.Policy.Import;

/// <summary>
/// The Python expressions diffusion_policy's configs hand to the <c>eval</c> resolver, evaluated without Python:
/// int/float/str/bool/None literals, + − * / // % **, comparisons (chained), and/or/not, <c>a if c else b</c> and
/// parentheses, with Python's semantics (bool is an int, <c>or</c> returns an operand, / is true division, // and %
/// floor). A name, call, attribute or subscript is refused: the expression is data, never code.
/// </summary>
public static class PyExpression
{
    public static object? Evaluate(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        var parser = new Parser(Tokenize(expression), expression);
        var value = parser.Conditional();
        parser.ExpectEnd();
        return value;
    }

    /// <summary>Python's <c>str()</c> of a scalar.</summary>
    public static string Str(object? value) => value switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FloatRepr(d),
        string s => s,
        _ => throw new FormatException($"cannot turn a {value.GetType().Name} into text"),
    };

    /// <summary>Python's <c>repr(float)</c>: shortest round-trip digits, positional for exponents in [−4, 16).</summary>
    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        var shortest = d.ToString("R", CultureInfo.InvariantCulture);
        var negative = shortest.StartsWith('-');
        if (negative) shortest = shortest[1..];
        var e = shortest.IndexOfAny(['E', 'e']);
        var mantissa = e >= 0 ? shortest[..e] : shortest;
        var exp10 = e >= 0 ? int.Parse(shortest[(e + 1)..], CultureInfo.InvariantCulture) : 0;
        var dot = mantissa.IndexOf('.');
        var intPart = dot >= 0 ? mantissa[..dot] : mantissa;
        var fracPart = dot >= 0 ? mantissa[(dot + 1)..] : "";
        var digits = (intPart + fracPart).TrimStart('0');
        var leadingZeros = (intPart + fracPart).Length - (intPart + fracPart).TrimStart('0').Length;
        if (digits.Length == 0) return negative ? "-0.0" : "0.0";
        var exponent = intPart.Length - 1 - leadingZeros + exp10; // decimal exponent of the first digit
        digits = digits.TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        var sb = new StringBuilder();
        if (negative) sb.Append('-');
        if (exponent < -4 || exponent >= 16)
        {
            sb.Append(digits[0]);
            if (digits.Length > 1) sb.Append('.').Append(digits, 1, digits.Length - 1);
            sb.Append('e').Append(exponent < 0 ? '-' : '+').Append(Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture));
        }
        else if (exponent < 0)
        {
            sb.Append("0.").Append('0', -exponent - 1).Append(digits);
        }
        else if (digits.Length <= exponent + 1)
        {
            sb.Append(digits).Append('0', exponent + 1 - digits.Length).Append(".0");
        }
        else
        {
            sb.Append(digits, 0, exponent + 1).Append('.').Append(digits, exponent + 1, digits.Length - exponent - 1);
        }
        return sb.ToString();
    }

    enum Kind { Number, String, Name, Op, End }

    sealed record Token(Kind Kind, string Text, object? Value);

    static List<Token> Tokenize(string s)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < s.Length)
        {
            var c = s[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (char.IsAsciiDigit(c) || (c == '.' && i + 1 < s.Length && char.IsAsciiDigit(s[i + 1])))
            {
                var start = i;
                while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] is '.' or '_')) i++;
                if (i < s.Length && s[i] is 'e' or 'E')
                {
                    i++;
                    if (i < s.Length && s[i] is '+' or '-') i++;
                    while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
                }
                var text = s[start..i].Replace("_", "", StringComparison.Ordinal);
                var value = text.Contains('.') || text.Contains('e') || text.Contains('E')
                    ? (object)double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture)
                    : (object)long.Parse(text, CultureInfo.InvariantCulture);
                tokens.Add(new Token(Kind.Number, text, value));
                continue;
            }
            if (c is '\'' or '"')
            {
                var sb = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= s.Length) throw new FormatException($"unterminated string in '{s}'");
                    if (s[i] == c) { i++; break; }
                    if (s[i] == '\\' && i + 1 < s.Length)
                    {
                        var n = s[i + 1];
                        sb.Append(n switch { 'n' => '\n', 't' => '\t', _ => n });
                        i += 2;
                        continue;
                    }
                    sb.Append(s[i++]);
                }
                tokens.Add(new Token(Kind.String, sb.ToString(), sb.ToString()));
                continue;
            }
            if (char.IsLetter(c) || c == '_')
            {
                var start = i;
                while (i < s.Length && (char.IsLetterOrDigit(s[i]) || s[i] == '_')) i++;
                tokens.Add(new Token(Kind.Name, s[start..i], null));
                continue;
            }
            string[] ops = ["**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "<", ">", "(", ")"];
            var op = ops.FirstOrDefault(o => string.CompareOrdinal(s, i, o, 0, o.Length) == 0);
            if (op is null) throw new FormatException($"'{c}' is not supported in an eval expression ('{s}')");
            tokens.Add(new Token(Kind.Op, op, null));
            i += op.Length;
        }
        tokens.Add(new Token(Kind.End, "", null));
        return tokens;
    }

    sealed class Parser(List<Token> tokens, string text)
    {
        int index;

        Token Peek => tokens[index];

        bool Accept(Kind kind, string value)
        {
            if (Peek.Kind == kind && Peek.Text == value)
            {
                index++;
                return true;
            }
            return false;
        }

        public void ExpectEnd()
        {
            if (Peek.Kind != Kind.End) throw new FormatException($"unexpected '{Peek.Text}' in '{text}'");
        }

        public object? Conditional()
        {
            var value = Or();
            if (Accept(Kind.Name, "if"))
            {
                var condition = Or();
                if (!Accept(Kind.Name, "else")) throw new FormatException($"'if' without 'else' in '{text}'");
                var otherwise = Conditional();
                return Truthy(condition) ? value : otherwise;
            }
            return value;
        }

        object? Or()
        {
            var value = And();
            while (Accept(Kind.Name, "or"))
            {
                var right = And();
                value = Truthy(value) ? value : right;
            }
            return value;
        }

        object? And()
        {
            var value = Not();
            while (Accept(Kind.Name, "and"))
            {
                var right = Not();
                value = Truthy(value) ? right : value;
            }
            return value;
        }

        object? Not() => Accept(Kind.Name, "not") ? !Truthy(Not()) : Comparison();

        object? Comparison()
        {
            var left = Arith();
            object? result = null;
            while (Peek.Kind == Kind.Op && Peek.Text is "==" or "!=" or "<" or ">" or "<=" or ">="
                || (Peek.Kind == Kind.Name && Peek.Text is "in" or "is"))
            {
                if (Peek.Kind == Kind.Name) throw new FormatException($"'{Peek.Text}' is not supported in an eval expression ('{text}')");
                var op = tokens[index++].Text;
                var right = Arith();
                var holds = op switch
                {
                    "==" => PyEquals(left, right),
                    "!=" => !PyEquals(left, right),
                    _ => CompareOrder(left, right, op),
                };
                result = result is false ? false : holds;
                left = right;
            }
            return result ?? left;
        }

        object? Arith()
        {
            var value = Term();
            while (Peek.Kind == Kind.Op && Peek.Text is "+" or "-")
            {
                var op = tokens[index++].Text;
                var right = Term();
                value = op == "+" && value is string a && right is string b ? a + b : Numeric(value, right, op);
            }
            return value;
        }

        object? Term()
        {
            var value = Unary();
            while (Peek.Kind == Kind.Op && Peek.Text is "*" or "/" or "//" or "%")
            {
                var op = tokens[index++].Text;
                value = Numeric(value, Unary(), op);
            }
            return value;
        }

        object? Unary()
        {
            if (Accept(Kind.Op, "-")) return Numeric(0L, Unary(), "-");
            if (Accept(Kind.Op, "+")) return Numeric(0L, Unary(), "+");
            var value = Atom();
            return Accept(Kind.Op, "**") ? Numeric(value, Unary(), "**") : value;
        }

        object? Atom()
        {
            var token = tokens[index++];
            switch (token.Kind)
            {
                case Kind.Number:
                case Kind.String:
                    return token.Value;
                case Kind.Name when token.Text == "True":
                    return true;
                case Kind.Name when token.Text == "False":
                    return false;
                case Kind.Name when token.Text == "None":
                    return null;
                case Kind.Op when token.Text == "(":
                    var value = Conditional();
                    if (!Accept(Kind.Op, ")")) throw new FormatException($"missing ')' in '{text}'");
                    return value;
                case Kind.Name:
                    throw new FormatException($"the name '{token.Text}' is not supported in an eval expression ('{text}'): only literals and operators are");
                default:
                    throw new FormatException($"unexpected '{token.Text}' in '{text}'");
            }
        }
    }

    static bool Truthy(object? v) => v switch
    {
        null => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        _ => true,
    };

    static bool IsNumber(object? v) => v is long or double or bool;

    static double ToDouble(object? v) => v switch { bool b => b ? 1 : 0, long l => l, double d => d, _ => throw new FormatException("not a number") };

    static long ToLong(object? v) => v switch { bool b => b ? 1 : 0, long l => l, _ => throw new FormatException("not an integer") };

    static bool PyEquals(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b)) return ToDouble(a) == ToDouble(b);
        return Equals(a, b);
    }

    static bool CompareOrder(object? a, object? b, string op)
    {
        var c = IsNumber(a) && IsNumber(b) ? ToDouble(a).CompareTo(ToDouble(b))
            : a is string sa && b is string sb ? string.CompareOrdinal(sa, sb)
            : throw new FormatException($"cannot order {Describe(a)} and {Describe(b)}");
        return op switch { "<" => c < 0, ">" => c > 0, "<=" => c <= 0, _ => c >= 0 };
    }

    static string Describe(object? v) => v?.GetType().Name ?? "None";

    static object Numeric(object? a, object? b, string op)
    {
        if (op == "*" && a is string s && b is long or bool) return string.Concat(Enumerable.Repeat(s, (int)Math.Max(0, ToLong(b))));
        if (!IsNumber(a) || !IsNumber(b)) throw new FormatException($"'{op}' of {Describe(a)} and {Describe(b)}");
        var integers = a is not double && b is not double;
        if (op == "/")
        {
            var divisor = ToDouble(b);
            return divisor == 0 ? throw new FormatException("division by zero") : ToDouble(a) / divisor;
        }
        if (integers)
        {
            long x = ToLong(a), y = ToLong(b);
            switch (op)
            {
                case "+": return checked(x + y);
                case "-": return checked(x - y);
                case "*": return checked(x * y);
                case "//": return y == 0 ? throw new FormatException("division by zero") : FloorDiv(x, y);
                case "%": return y == 0 ? throw new FormatException("division by zero") : x - y * FloorDiv(x, y);
                case "**": return y >= 0 ? (object)checked((long)Math.Pow(x, y)) : (object)Math.Pow(x, y);
            }
        }
        double p = ToDouble(a), q = ToDouble(b);
        return op switch
        {
            "+" => p + q,
            "-" => p - q,
            "*" => p * q,
            "//" => q == 0 ? throw new FormatException("division by zero") : Math.Floor(p / q),
            "%" => q == 0 ? throw new FormatException("division by zero") : p - q * Math.Floor(p / q),
            _ => Math.Pow(p, q),
        };
    }

    static long FloorDiv(long x, long y)
    {
        var q = x / y;
        return (x % y != 0 && (x < 0) != (y < 0)) ? q - 1 : q;
    }
}
