namespace DiffPolicy.Policy;

/// <summary>The one validation rule of configs and checkpoints: a false condition is bad input, its message naming the key.</summary>
public static class Check
{
    /// <summary>Throws <see cref="InvalidDataException"/> with <paramref name="message"/> when <paramref name="condition"/> is false.</summary>
    public static void Require(bool condition, string message)
    {
        if (!condition) throw new InvalidDataException(message);
    }
}
