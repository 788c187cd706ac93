using System.Text;
using DiffPolicy.Policy.Import;
using DiffPolicy.Policy.Vision;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Tests;

/// <summary>
/// The pieces under the importer, against Python's own definitions: pickle opcodes (the pickle module's spec), the eval
/// resolver's expressions (Python semantics, values as CPython prints them), OmegaConf interpolation, torchvision's
/// centre-crop rounding.
/// </summary>
public class PickleAndConfigTests
{
    [Fact]
    public void Pickle_reader_builds_values_and_refuses_other_globals()
    {
        // pickle.dumps({'a': [1, -2, 3.5, None, True], 'b': ('x', b'\x00\xff')}, protocol=2), with bytes as _codecs.encode.
        var data = Convert.FromHexString(
            "80027d71002858010000006171015d7102284b014afeffffff47400c0000000000004e886558010000006271035801000000787104635f636f646563730a" +
            "656e636f64650a7105580300000000c3bf710658060000006c6174696e31710786710852710986710a752e");
        var value = PickleReader.Read(data, "test");
        var dict = Assert.IsType<OrderedDictionary<object, object?>>(value);
        Assert.Equal(new List<object?> { 1L, -2L, 3.5, null, true }, dict["a"]);
        var tuple = Assert.IsType<PyTuple>(dict["b"]);
        Assert.Equal("x", tuple.Items[0]);
        Assert.Equal(new byte[] { 0x00, 0xff }, tuple.Items[1]);

        // pickle.dumps of an object whose __reduce__ is (os.system, ('true',)): GLOBAL 'posix system'.
        var evil = Encoding.Latin1.GetBytes("\u0080\u0002cposix\nsystem\nq\u0000X\u0004\u0000\u0000\u0000trueq\u0001\u0085q\u0002Rq\u0003.");
        var error = Assert.Throws<InvalidDataException>(() => PickleReader.Read(evil, "evil.pkl"));
        Assert.Contains("'posix.system'", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Expected values are CPython 3.11's <c>str(eval(expression))</c>.</summary>
    [Theory]
    [InlineData("3+4*2", "11")]
    [InlineData("7//2", "3")]
    [InlineData("-7//2", "-4")]
    [InlineData("-7%3", "2")]
    [InlineData("2**10", "1024")]
    [InlineData("1/2", "0.5")]
    [InlineData("8-1+0", "7")]
    [InlineData("500 if \"mh\" == \"mh\" else 400", "500")]
    [InlineData("500 if \"ph\" == \"mh\" else 400", "400")]
    [InlineData(" 2 if False or True else 20", "2")]
    [InlineData("20 if False else None", "None")]
    [InlineData("1 < 2 < 3", "True")]
    [InlineData("3 > 2 > 2.5", "False")]
    [InlineData("True + 1", "2")]
    [InlineData("0 or 'a'", "a")]
    [InlineData("not 0 and 5", "5")]
    [InlineData("7/2*2", "7.0")]
    [InlineData("2 * 3 == 6.0", "True")]
    public void Eval_expressions_follow_python(string expression, string expected) =>
        Assert.Equal(expected, PyExpression.Str(PyExpression.Evaluate(expression)));

    [Theory]
    [InlineData("__import__('os').system('true')")]
    [InlineData("open('/etc/passwd')")]
    [InlineData("x.y")]
    public void Eval_refuses_names_calls_and_attributes(string expression) =>
        Assert.Throws<FormatException>(() => PyExpression.Evaluate(expression));

    [Theory]
    [InlineData(1e-05, "1e-05")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(0.02, "0.02")]
    [InlineData(123.0, "123.0")]
    [InlineData(1e16, "1e+16")]
    [InlineData(1234567890123456.0, "1234567890123456.0")]
    [InlineData(-2.5e-7, "-2.5e-07")]
    public void Floats_print_as_python_repr(double value, string expected) => Assert.Equal(expected, PyExpression.FloatRepr(value));

    static ConfigResolver Resolver()
    {
        var root = new ConfigMap();
        root.Add("n_obs_steps", new ConfigValue(2L));
        root.Add("n_action_steps", new ConfigValue(8L));
        root.Add("n_latency_steps", new ConfigValue(0L));
        root.Add("obs_as_global_cond", new ConfigValue(true));
        var task = new ConfigMap();
        task.Add("obs_dim", new ConfigValue(20L));
        task.Add("dataset_type", new ConfigValue("ph"));
        var meta = new ConfigMap();
        var shape = new ConfigList();
        shape.Add(new ConfigValue(3L));
        shape.Add(new ConfigValue(96L));
        meta.Add("shape", shape);
        task.Add("shape_meta", meta);
        root.Add("task", task);
        root.Add("shape_meta", new ConfigValue("${task.shape_meta}"));
        var policy = new ConfigMap();
        policy.Add("n_action_steps", new ConfigValue("${eval:'${n_action_steps}+${n_latency_steps}'}"));
        policy.Add("global_cond_dim", new ConfigValue("${eval: ${task.obs_dim}*${n_obs_steps} if ${obs_as_global_cond} else None}"));
        policy.Add("max_steps", new ConfigValue("${eval:'500 if \"${task.dataset_type}\" == \"mh\" else 400'}"));
        policy.Add("name", new ConfigValue("run_${n_obs_steps}_${obs_as_global_cond}"));
        policy.Add("height", new ConfigValue("${shape_meta.shape[1]}"));
        policy.Add("sibling", new ConfigValue("${.name}"));
        policy.Add("kind", new ConfigValue("${oc.select:task.kind,lowdim}"));
        policy.Add("loop", new ConfigValue("${policy.loop}"));
        policy.Add("now", new ConfigValue("${now:%Y}"));
        root.Add("policy", policy);
        return new ConfigResolver(root, "cfg");
    }

    [Fact]
    public void Interpolations_resolve_as_omegaconf_does()
    {
        var cfg = Resolver();
        Assert.Equal(8L, cfg.Resolve("policy.n_action_steps"));
        Assert.Equal(40L, cfg.Resolve("policy.global_cond_dim"));
        Assert.Equal(400L, cfg.Resolve("policy.max_steps"));
        Assert.Equal("run_2_True", cfg.Resolve("policy.name"));
        Assert.Equal(96L, cfg.Resolve("policy.height"));
        Assert.Equal("run_2_True", cfg.Resolve("policy.sibling"));
        Assert.Equal("lowdim", cfg.Resolve("policy.kind"));
        var meta = Assert.IsType<OrderedDictionary<string, object?>>(cfg.Resolve("shape_meta"));
        Assert.Equal(new List<object?> { 3L, 96L }, meta["shape"]);
        Assert.Contains("refers to itself", Assert.Throws<InvalidDataException>(() => cfg.Resolve("policy.loop")).Message, StringComparison.Ordinal);
        Assert.Contains("resolver 'now'", Assert.Throws<InvalidDataException>(() => cfg.Resolve("policy.now")).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(96, 84, 6)]   // (96 − 84) / 2 = 6
    [InlineData(97, 84, 6)]   // 6.5 → 6 (Python rounds half to even)
    [InlineData(99, 84, 8)]   // 7.5 → 8
    [InlineData(80, 71, 4)]   // 4.5 → 4
    public void Centre_crop_offsets_round_half_to_even_as_torchvision(int size, int crop, int top)
    {
        using var scope = NewDisposeScope();
        var image = arange(size, dtype: float32).reshape(1, 1, size, 1).expand(1, 3, size, size);
        var cropped = MultiImageObsEncoder.CenterCrop(image, crop, crop);
        Assert.Equal(top, cropped[0, 0, 0, 0].item<float>());
        Assert.Equal([1L, 3, crop, crop], cropped.shape);
    }
}
