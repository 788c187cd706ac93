using DiffPolicy.Cli.Commands;

namespace DiffPolicy.Cli.Tests;

/// <summary>
/// The sweep of bad inputs: each row is a command line, the exit code docs/cli.md gives for it, and what the single
/// stderr line must name (the option, file or key at fault). Every row must also leave every file where it was
/// (outputs included: the sentinel in {out} stays as it is and nothing is added), print no stack trace, and finish.
/// The CLI runs in this process (<see cref="CliApp.Run"/>), exactly as <c>diffpolicy</c> runs it minus the signal handlers.
/// </summary>
public sealed class BadInputSweepTests(BadInputSweep sweep) : IClassFixture<BadInputSweep>
{
    const int Bad = ExitCodes.BadInput, Failed = ExitCodes.Failed;

    /// <summary>(command line, exit code, what the line names). Paths: see <see cref="BadInputSweep"/>.</summary>
    public static TheoryData<string, int, string> Cases => new()
    {
        // The command line itself.
        { "", Bad, "Required command" },
        { "frobnicate", Bad, "'frobnicate'" },
        { "eval --no-such-option 1", Bad, "--no-such-option" },
        { "info --device tpu", Bad, "--device" },

        // eval: every number bounded, every file checked before the work.
        { "eval --checkpoint {ckpt} --episodes 0", Bad, "--episodes" },
        { "eval --checkpoint {ckpt} --episodes abc", Bad, "--episodes" },
        { "eval --checkpoint {ckpt} --episodes 99999999999", Bad, "--episodes" },
        { "eval --checkpoint {ckpt} --episodes 1000000", Bad, "--episodes" },
        { "eval --checkpoint {ckpt} --max-steps 0", Bad, "--max-steps" },
        { "eval --checkpoint {ckpt} --mode sometimes", Bad, "--mode" },
        { "eval --checkpoint {ckpt} --mode latency --latency-steps 65", Bad, "--latency-steps" },
        { "eval --checkpoint {ckpt} --mode latency --latency-steps -1", Bad, "--latency-steps" },
        { "eval --checkpoint {ckpt} --mode latency --latency-steps soon", Bad, "--latency-steps" },
        { "eval --checkpoint {ckpt} --latency-steps 4", Bad, "--latency-steps" },
        { "eval --checkpoint {ckpt} --seam inpaint", Bad, "--seam" },
        { "eval --checkpoint {ckpt} --deadline-ms 0", Bad, "--deadline-ms" },
        { "eval --checkpoint {ckpt} --deadline-ms 60,soon", Bad, "--deadline-ms" },
        { "eval --checkpoint {ckpt} --deadline-ms 700000", Bad, "--deadline-ms" },
        { "eval --checkpoint {ckpt} --deadline-ms 60,none,60", Bad, "--deadline-ms" },
        { "eval --checkpoint {ckpt} --transport direct --deadline-ms 60", Bad, "--transport" },
        { "eval --checkpoint {ckpt} --mode latency --seam stitch", Bad, "--seam" },
        { "eval --checkpoint {ckpt} --mode realtime --transport direct", Bad, "--transport" },
        { "eval --connect tcp://127.0.0.1:1 --mode latency", Bad, "--latency-steps" },
        { "eval --checkpoint {ckpt} --seed-start -1", Bad, "--seed-start" },
        { "eval --checkpoint {ckpt} --seed-start 4294967295 --episodes 2", Bad, "--seed-start" },
        { "eval --checkpoint {ckpt} --threads 100000", Bad, "--threads" },
        { "eval --checkpoint {ckpt} --threads -1", Bad, "--threads" },
        { "eval --checkpoint {ckpt} --workers 0", Bad, "--workers" },
        { "eval --checkpoint {ckpt} --workers 100000", Bad, "--workers" },
        { "eval --checkpoint {ckpt} --window 0", Bad, "--window" },
        { "eval --checkpoint {ckpt} --window 1000000", Bad, "--window" },
        { "eval --checkpoint {ckpt} --tolerance -1", Bad, "--tolerance" },
        { "eval --checkpoint {ckpt} --tolerance nan", Bad, "--tolerance" },
        { "eval --checkpoint {ckpt} --steps 0", Bad, "--steps" },
        { "eval --checkpoint {ckpt} --steps 101", Bad, "--steps" },
        { "eval --checkpoint {ckpt} --solver euler", Bad, "--solver" },
        { "eval --checkpoint {ckpt} --sampler magic", Bad, "--sampler" },
        { "eval --checkpoint {ckpt} --transport udp", Bad, "--transport" },
        { "eval --checkpoint {ckpt} --warm-start maybe", Bad, "--warm-start" },
        { "eval --checkpoint {ckpt} --device tpu", Bad, "--device" },
        { "eval --checkpoint {ckpt} --backend gpu", Bad, "--backend" },
        { "eval --checkpoint {ckpt} --device cuda:0", Bad, "--device" },
        { "eval --checkpoint {missing}", Bad, "--checkpoint" },
        { "eval --checkpoint {ckpt} --json {dir}", Bad, "--json" },
        { "eval --checkpoint {ckpt} --json {file}/report.json", Bad, "--json" },
        { "eval --checkpoint {ckpt} --video {file}", Bad, "--video" },
        { "eval --checkpoint {ckpt} --video {file}/videos", Bad, "--video" },
        { "eval --connect tcp://127.0.0.1:1 --episodes 1 --json {out}/report.json", Failed, "--connect" },
        { "eval --connect nonsense://x --episodes 1", Bad, "--connect" },

        // Checkpoints that do not fit their policy.json, for each verb that loads one.
        { "eval --checkpoint {ckpt-transposed}", Bad, "unet.safetensors" },
        { "eval --checkpoint {ckpt-missing-key}", Bad, "--checkpoint" },
        { "eval --checkpoint {ckpt-extra-key}", Bad, "extra.weight" },
        { "eval --checkpoint {ckpt-down-dims}", Bad, "--checkpoint" },
        { "eval --checkpoint {ckpt-obs-dim}", Bad, "--checkpoint" },
        { "eval --checkpoint {ckpt-inconsistent}", Bad, "global_cond_dim" },
        { "eval --checkpoint {ckpt-empty-config}", Bad, "policy.json" },
        { "eval --checkpoint {ckpt-no-normalizer}", Bad, "normalizer.safetensors" },
        { "eval --checkpoint {ckpt-garbage-weights}", Bad, "unet.safetensors" },
        { "eval --checkpoint {ckpt-not-pusht} --episodes 1 --max-steps 2", Bad, "--checkpoint" },
        { "eval --checkpoint {ckpt-not-pusht} --episodes 1 --max-steps 2 --transport direct", Bad, "--checkpoint" },
        { "soak --checkpoint {ckpt-not-pusht}", Bad, "--checkpoint" },
        { "serve --checkpoint {ckpt-transposed} --bind tcp://127.0.0.1:*", Bad, "--checkpoint" },
        { "serve --checkpoint {ckpt-down-dims} --bind tcp://127.0.0.1:*", Bad, "--checkpoint" },
        { "serve --checkpoint {ckpt-empty-config} --bind tcp://127.0.0.1:*", Bad, "policy.json" },
        { "soak --checkpoint {ckpt-extra-key}", Bad, "--checkpoint" },
        { "soak --checkpoint {ckpt-obs-dim}", Bad, "--checkpoint" },
        { "bench sampler --checkpoint {ckpt-transposed} --chunks 1", Bad, "--checkpoint" },

        // serve
        { "serve --checkpoint {ckpt} --bind tcp://0.0.0.0:*", Bad, "--bind" },
        { "serve --checkpoint {ckpt} --bind nonsense", Bad, "--bind" },
        { "serve --checkpoint {ckpt} --curve-secret-key short", Bad, "--curve-secret-key" },
        { "serve --checkpoint {ckpt} --threads 100000", Bad, "--threads" },

        { "serve --checkpoint {ckpt} --max-batch 0", Bad, "--max-batch" },
        { "serve --checkpoint {ckpt} --max-batch 65", Bad, "--max-batch" },
        { "serve --checkpoint {ckpt} --log-level loud", Bad, "--log-level" },
        { "broker --log-level 3", Bad, "--log-level" },
        { "serve --checkpoint {ckpt} --worker-of tcp://10.1.2.3:5556", Bad, "--worker-of" },
        { "serve --checkpoint {ckpt} --worker-of tcp://127.0.0.1:5556 --curve-server-key short", Bad, "--curve-server-key" },

        // broker: beyond loopback only with keys
        { "broker --frontend tcp://0.0.0.0:*", Bad, "--frontend" },
        { "broker --backend tcp://0.0.0.0:*", Bad, "--backend" },
        { "broker --curve-secret-key short", Bad, "--curve-secret-key" },

        // bench serve
        { "bench serve --checkpoint {ckpt} --robots 0", Bad, "--robots" },
        { "bench serve --checkpoint {ckpt} --robots 1,99", Bad, "--robots" },
        { "bench serve --checkpoint {ckpt} --max-batch 0", Bad, "--max-batch" },
        { "bench serve --checkpoint {ckpt} --duration 1s", Bad, "--duration" },
        { "bench serve --checkpoint {ckpt} --json {dir}", Bad, "--json" },

        // soak
        { "soak --checkpoint {ckpt} --robots 0", Bad, "--robots" },
        { "soak --checkpoint {ckpt} --robots 65", Bad, "--robots" },
        { "soak --checkpoint {ckpt} --deadline-ms 0", Bad, "--deadline-ms" },
        { "soak --checkpoint {ckpt} --max-batch 0", Bad, "--max-batch" },
        { "soak --checkpoint {ckpt} --duration 99999999999h", Bad, "--duration" },
        { "soak --checkpoint {ckpt} --duration 0", Bad, "--duration" },
        { "soak --checkpoint {ckpt} --duration 1s", Bad, "--duration" },
        { "soak --checkpoint {ckpt} --duration 8d", Bad, "--duration" },
        { "soak --checkpoint {ckpt} --duration soon", Bad, "--duration" },
        { "soak --checkpoint {ckpt} --lead 0", Bad, "--lead" },
        { "soak --checkpoint {ckpt} --lead 100000", Bad, "--lead" },
        { "soak --checkpoint {ckpt} --lead 16", Bad, "--lead" },
        { "soak --checkpoint {ckpt} --json {dir}", Bad, "--json" },
        { "soak --checkpoint {ckpt} --plot {file}/latency.png", Bad, "--plot" },

        // train
        { "train --config {missing} --data {data} --out {out}/run", Bad, "--config" },
        { "train --config {config} --data {missing} --out {out}/run", Bad, "--data" },
        { "train --config {config} --data {data}", Bad, "--out" },
        { "train --config {config-garbage} --data {data} --out {out}/run", Bad, "--config" },
        { "train --config {config-unknown-key} --data {data} --out {out}/run", Bad, "horizzon" },
        { "train --config {config} --data {data-text} --out {out}/run", Bad, "--data" },
        { "train --config {config} --data {data-no-action} --out {out}/run", Bad, "'action'" },
        { "train --config {config} --data {data-no-ends} --out {out}/run", Bad, "'episode_ends'" },
        { "train --config {config} --data {data-hostile} --out {out}/run", Bad, "--data" },
        { "train --config {config} --data {data-wide} --out {out}/run", Bad, "--data" },
        { "train --config {config} --data {data} --out {file}", Bad, "--out" },
        { "train --config {config} --data {data} --out {out}/run --steps 0", Bad, "--steps" },
        { "train --config {config} --data {data} --out {out}/run --threads 100000", Bad, "--threads" },
        { "train --config {config} --data {data} --out {out}/run --device tpu", Bad, "--device" },
        { "train --config {config} --data {data} --out {run} --steps 2", Bad, "--steps" },
        { "train --config {config} --data {data-shifted} --out {run} --steps 8", Bad, "other data" },
        { "train --config {config} --data {data} --out {run-empty-progress} --steps 8", Bad, "progress.json" },
        { "train --config {config} --data {data} --out {run-cut-progress} --steps 8", Bad, "progress.json" },

        // pusht collect
        { "pusht collect --out {out}/demos.npz --episodes 0", Bad, "--episodes" },
        { "pusht collect --out {out}/demos.npz --episodes 1000000", Bad, "--episodes" },
        { "pusht collect --out {out}/demos.npz --max-steps 0", Bad, "--max-steps" },
        { "pusht collect --out {out}/demos.npz --seed-start -1", Bad, "--seed-start" },
        { "pusht collect --out {out}/demos.npz --seed-start 4294967295 --episodes 2", Bad, "--seed-start" },
        { "pusht collect --out {out}/demos.npz --video-episodes -1", Bad, "--video-episodes" },
        { "pusht collect --out {dir}", Bad, "--out" },
        { "pusht collect --out {file}/demos.npz", Bad, "--out" },
        { "pusht collect --out {out}/demos.npz --video {file}", Bad, "--video" },
        { "pusht collect", Bad, "--out" },
        { "pusht collect --out {out}/demos.npz --episodes 1 --max-steps 1", Failed, "no episode succeeded" },

        // pusht replay
        { "pusht replay --input {missing}", Bad, "--input" },
        { "pusht replay --input {replay-not-json}", Bad, "--input" },
        { "pusht replay --input {replay-object}", Bad, "--input" },
        { "pusht replay --input {replay-no-actions}", Bad, "actions" },
        { "pusht replay --input {replay-short-state}", Bad, "initial_state" },
        { "pusht replay --input {replay-bad-action}", Bad, "actions[0]" },
        { "pusht replay --input {replay-huge-seed}", Bad, "seed" },
        { "pusht replay --input {replay-huge-action} --output {out}/sentinel.json", Bad, "scenario 0" },
        { "pusht replay --input {replay} --output {dir}", Bad, "--output" },
        { "pusht replay --input {replay} --output {out}/sentinel.json/x", Bad, "--output" },
        { "pusht replay --input {replay-no-actions} --output {out}/sentinel.json", Bad, "--input" },
        { "pusht replay --input {replay} --video {file}", Bad, "--video" },

        // pusht render
        { "pusht render --seed 1", Bad, "--png" },
        { "pusht render --png {out}/reset.png --size 1", Bad, "--size" },
        { "pusht render --png {out}/reset.png --size 100000", Bad, "--size" },
        { "pusht render --png {out}/reset.png --seed -1", Bad, "--seed" },
        { "pusht render --png {out}/reset.png --seed 4294967296", Bad, "--seed" },
        { "pusht render --png {out}/reset.png --max-steps 0", Bad, "--max-steps" },
        { "pusht render --png {dir}", Bad, "--png" },
        { "pusht render --png {out}/reset.png --video {file}/episode.gif", Bad, "--video" },

        // pusht robot
        { "pusht robot --episodes 0", Bad, "--episodes" },
        { "pusht robot --max-steps 0", Bad, "--max-steps" },
        { "pusht robot --lead 0", Bad, "--lead" },
        { "pusht robot --stateless", Bad, "--stateless" },
        { "pusht robot --name bad/name", Bad, "--name" },
        { "pusht robot --mode fly", Bad, "--mode" },
        { "pusht robot --curve-server-key short", Bad, "--curve-server-key" },
        { "pusht robot --json {dir}", Bad, "--json" },
        { "pusht robot --connect tcp://127.0.0.1:1 --json {out}/robot.json", Failed, "--connect" },

        // bench
        { "bench sampler --chunks 0", Bad, "--chunks" },
        { "bench sampler --chunks 1 --pytorch-reference {dp-src}", Bad, "--pytorch-reference" },
        { "bench sampler --checkpoint {ckpt} --chunks 1 --pytorch-reference {dir}", Bad, "--pytorch-reference" },
        { "bench sampler --checkpoint {ckpt} --chunks 1 --pytorch-reference {missing}", Bad, "--pytorch-reference" },
        { "bench sampler --checkpoint {ckpt} --chunks 1 --ddpm-steps 50 --pytorch-reference {dp-src}", Bad, "--pytorch-reference" },
        { "bench sampler --checkpoint {ckpt} --chunks 1 --pytorch-reference {dp-src} --python {missing}", Bad, "--python" },
        { "bench sampler --checkpoint {ckpt} --chunks 1 --pytorch-reference {dp-src} --pytorch-chunks 0", Bad, "--pytorch-chunks" },
        { "bench sampler --checkpoint {ckpt} --chunks 1 --pytorch-reference {dp-src} --pytorch-threads 0", Bad, "--pytorch-threads" },
        { "bench sampler --chunks 1000000", Bad, "--chunks" },
        { "bench sampler --warmup -1", Bad, "--warmup" },
        { "bench sampler --batch 0", Bad, "--batch" },
        { "bench sampler --horizon 0", Bad, "--horizon" },
        { "bench sampler --kernel 0", Bad, "--kernel" },
        { "bench sampler --kernel 4 --chunks 1", Bad, "kernel_size" },
        { "bench sampler --horizon 6 --chunks 1", Bad, "horizon" },
        { "bench sampler --down-dims 7 --chunks 1", Bad, "down_dims" },
        { "bench sampler --step-embed 2", Bad, "--step-embed" },
        { "bench sampler --window 0,8", Bad, "--window" },
        { "bench sampler --window eight", Bad, "--window" },
        { "bench sampler --workers 0", Bad, "--workers" },
        { "bench sampler --threads 100000", Bad, "--threads" },
        { "bench sampler --down-dims ,", Bad, "--down-dims" },
        { "bench sampler --start hot", Bad, "--start" },
        { "bench sampler --tolerance -0.5", Bad, "--tolerance" },
        { "bench sampler --seed -1", Bad, "--seed" },
        { "bench sampler --ddpm-steps 0 --ddim-steps 0 --dpm-steps 0", Bad, "--ddpm-steps" },
        { "bench sampler --ddpm-steps 1000", Bad, "--ddpm-steps" },
        { "bench sampler --observations {data}", Bad, "--observations" },
        { "bench sampler --observations {missing} --checkpoint {ckpt}", Bad, "--observations" },
        { "bench sampler --checkpoint {missing}", Bad, "--checkpoint" },
        { "bench sampler --json {dir}", Bad, "--json" },
        { "bench network --checkpoint {ckpt} --calls 0", Bad, "--calls" },
        { "bench network --checkpoint {ckpt} --rows 0", Bad, "--rows" },
        { "bench network --checkpoint {ckpt} --backends auto", Bad, "--backends" },
        { "bench network --checkpoint {ckpt} --backends gpu", Bad, "--backends" },
        { "bench network --checkpoint {ckpt} --threads 0", Bad, "--threads" },
        { "bench encoder --checkpoint {ckpt} --chunks 0", Bad, "--chunks" },
        { "bench encoder --checkpoint {ckpt} --warmup 1001", Bad, "--warmup" },
        { "bench encoder --checkpoint {missing}", Bad, "--checkpoint" },
        { "bench network --checkpoint {missing}", Bad, "--checkpoint" },
        { "bench network --checkpoint {ckpt-transposed}", Bad, "--checkpoint" },
        { "bench network --checkpoint {ckpt} --json {dir}", Bad, "--json" },
        { "bench sim --rounds 0", Bad, "--rounds" },
        { "bench sim --repeats 0", Bad, "--repeats" },
        { "bench sim --repeats 100000", Bad, "--repeats" },
        { "bench sim --json {dir}", Bad, "--json" },

        // export
        { "export --checkpoint {ckpt}", Bad, "--onnx" },
        { "export --checkpoint {ckpt} --onnx {dir}", Bad, "--onnx" },
        { "export --checkpoint {missing} --onnx {out}/net.onnx", Bad, "--checkpoint" },
        { "export --checkpoint {ckpt-down-dims} --onnx {out}/net.onnx", Bad, "--checkpoint" },
        { "export --checkpoint {ckpt} --onnx /dev/full", Failed, "/dev/full" },

        // A full disk while writing: a run-time failure, the file named.
        { "bench sim --rounds 1 --repeats 1 --json /dev/full", Failed, "/dev/full" },
        { "pusht render --png /dev/full --size 64", Failed, "/dev/full" },

        // import
        { "import --weights {missing} --config {file} --out {out}/net", Bad, "--weights" },
        { "import --weights {file} --config {missing} --out {out}/net", Bad, "--config" },
        { "import --weights {file} --config {config-garbage} --out {out}/net", Bad, "--config" },
        { "import --weights {file} --config {file} --out {out}/net", Bad, "--config" },
        { "import --weights {file} --config {file} --out {file}", Bad, "--out" },
        { "import --weights {file} --config {file} --out {out}/net --verify {missing}", Bad, "--verify" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_input_gives_one_line_naming_the_culprit_and_its_exit_code_and_touches_nothing(string commandLine, int exitCode, string named)
    {
        var args = sweep.Expand(commandLine).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var before = sweep.Snapshot();
        using var error = new StringWriter();
        var run = Task.Run(() => CliApp.Run(args, error));
        Assert.True(await Task.WhenAny(run, Task.Delay(TimeSpan.FromMinutes(2))) == run, $"'{commandLine}' did not finish within 2 minutes");
        var code = await run;

        var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"'{commandLine}' wrote {lines.Length} lines to stderr:\n{error}");
        var line = lines[0];
        Assert.StartsWith("diffpolicy", line, StringComparison.Ordinal);
        Assert.Contains(sweep.Expand(named), line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", line, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", line, StringComparison.Ordinal);
        Assert.True(code == exitCode, $"'{commandLine}' exited {code}, not {exitCode}: {line}");
        Assert.Equal(before, sweep.Snapshot());
    }

    [Fact]
    public void Every_verb_is_in_the_sweep()
    {
        var verbs = CliDocsTests.Verbs().Select(v => v.Verb).ToList();
        var swept = Cases.Select(c => (string)c[0]).ToList();
        Assert.All(verbs, verb => Assert.Contains(swept, line => line.StartsWith(verb + " ", StringComparison.Ordinal)));
    }
}
