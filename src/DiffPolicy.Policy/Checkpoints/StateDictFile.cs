using System.Collections;
using System.Text;
using System.Text.Json;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Checkpoints;

/// <summary>
/// Reads a state dict from a PyTorch <c>torch.save</c> zip file or a <c>.safetensors</c> file (told
/// apart by content, not extension) and writes safetensors.
/// </summary>
public static class StateDictFile
{
    /// <summary>Tensors by key, on the CPU. The caller owns (disposes) them.</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Weights file '{path}' does not exist.", path);
        try
        {
            return IsZip(path) ? ReadTorchSave(path) : Safetensors.LoadStateDict(path);
        }
        catch (Exception e) when (e is not FileNotFoundException and not InvalidDataException)
        {
            throw new InvalidDataException(
                $"'{path}' is neither a torch.save state dict (zip format) nor a safetensors file: {e.Message}", e);
        }
    }

    static bool IsZip(string path)
    {
        Span<byte> magic = stackalloc byte[4];
        using var stream = File.OpenRead(path);
        return stream.Read(magic) == 4 && magic.SequenceEqual("PK\u0003\u0004"u8);
    }

    static Dictionary<string, Tensor> ReadTorchSave(string path)
    {
        using var stream = File.OpenRead(path);
        var table = PyTorchUnpickler.UnpickleStateDict(stream);
        var result = new Dictionary<string, Tensor>();
        foreach (DictionaryEntry entry in table)
        {
            if (entry.Value is not Tensor tensor)
                throw new InvalidDataException($"'{path}': entry '{entry.Key}' is not a tensor (save model.state_dict(), not the model).");
            result.Add((string)entry.Key, tensor);
        }
        return result;
    }

    /// <summary>Writes float32/float64/int64 tensors as safetensors (header padded to 8 bytes, keys sorted).</summary>
    public static void WriteSafetensors(string path, IReadOnlyDictionary<string, Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var keys = tensors.Keys.Order(StringComparer.Ordinal).ToList();
        var header = new Dictionary<string, object>();
        long offset = 0;
        foreach (var key in keys)
        {
            var tensor = tensors[key];
            var length = tensor.NumberOfElements * tensor.ElementSize;
            header[key] = new { dtype = DTypeName(tensor.dtype), shape = tensor.shape, data_offsets = new[] { offset, offset + length } };
            offset += length;
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        var padded = (json.Length + 7) / 8 * 8;

        using var stream = File.Create(path);
        using var writer = new BinaryWriter(stream);
        writer.Write((ulong)padded);
        writer.Write(json);
        writer.Write(Encoding.ASCII.GetBytes(new string(' ', padded - json.Length)));
        foreach (var key in keys)
        {
            using var cpu = tensors[key].detach().cpu().contiguous();
            writer.Write(cpu.bytes);
        }
    }

    static string DTypeName(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "F32",
        ScalarType.Float64 => "F64",
        ScalarType.Int64 => "I64",
        _ => throw new NotSupportedException($"Cannot write {dtype} tensors to safetensors."),
    };
}
