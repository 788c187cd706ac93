namespace DiffPolicy.Data;

/// <summary>How messages write an array or tensor shape: (2, 16, 36).</summary>
public static class Shapes
{
    public static string Format(IEnumerable<long> shape) => "(" + string.Join(", ", shape) + ")";

    public static string Format(IEnumerable<int> shape) => "(" + string.Join(", ", shape) + ")";
}
