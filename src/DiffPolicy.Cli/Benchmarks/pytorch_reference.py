"""The original PyTorch eager reference of `diffpolicy bench sampler --pytorch-reference DP_SRC`.

Loads a checkpoint's unet.safetensors (written by this project) into the ORIGINAL ConditionalUnet1D of
real-stanford/diffusion_policy, imported from DP_SRC (a copy of that repository's diffusion_policy/model and
diffusion_policy/common folders, never shipped here), and times sequential DDPM chunks at batch 1, eager, under
torch.no_grad(), as the original's policy samples: one network call and one DDPM step per denoising step.

usage: python3 pytorch_reference.py DP_SRC CHECKPOINT_DIR CONDS_NPY OUT_JSON [--threads 1,2] [--chunks 5] [--warmup 1]
CONDS_NPY: float32 (n, global_cond_dim), the normalised observations the bench conditioned its own chunks on; chunk i
uses row i mod n. Writes OUT_JSON: torch version, how the weights loaded, and per thread count the chunk times (ms).

Needs Debian's python3-torch (1.13) and python3-numpy. diffusion_policy imports einops; a stand-in for the two
patterns ConditionalUnet1D uses is installed below, so einops need not be.
"""
import argparse
import json
import math
import os
import struct
import sys
import time
import types

import numpy as np
import torch
import torch.nn as nn


def install_einops_stand_in():
    """ConditionalUnet1D uses einops.rearrange for (b, h, t) <-> (b, t, h) and Rearrange('batch t -> batch t 1')."""
    def rearrange(x, pattern):
        if pattern in ("b h t -> b t h", "b t h -> b h t"):
            return x.transpose(1, 2)
        raise NotImplementedError(pattern)

    class Rearrange(nn.Module):
        def __init__(self, pattern):
            super().__init__()
            if pattern != "batch t -> batch t 1":
                raise NotImplementedError(pattern)

        def forward(self, x):
            return x.unsqueeze(-1)

    einops = types.ModuleType("einops")
    einops.rearrange = rearrange
    layers = types.ModuleType("einops.layers")
    layers_torch = types.ModuleType("einops.layers.torch")
    layers_torch.Rearrange = Rearrange
    einops.layers = layers
    layers.torch = layers_torch
    sys.modules.setdefault("einops", einops)
    sys.modules.setdefault("einops.layers", layers)
    sys.modules.setdefault("einops.layers.torch", layers_torch)


def read_safetensors(path):
    """{name: float32 tensor} of a safetensors file (8-byte little-endian header length, JSON header, raw data)."""
    with open(path, "rb") as f:
        length = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(length))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] != "F32":
            raise ValueError(f"{path}: {name} is {entry['dtype']}, expected F32")
        begin, end = entry["data_offsets"]
        values = np.frombuffer(data[begin:end], dtype="<f4").reshape(entry["shape"])
        tensors[name] = torch.from_numpy(values.copy())
    return tensors


# This project names every network tensor as the original's state_dict does (its modules' fields are named like the
# PyTorch keys), so the map is the identity; a key renamed on either side fails the strict load below.
KEY_MAP = {}


def original_state_dict(ours):
    return {KEY_MAP.get(name, name): tensor for name, tensor in ours.items()}


def network_config(checkpoint):
    """The constructor arguments, from a network checkpoint (unet.config.json) or a policy checkpoint (policy.json)."""
    unet = os.path.join(checkpoint, "unet.config.json")
    if os.path.exists(unet):
        with open(unet) as f:
            config = json.load(f)
        return config, 100
    with open(os.path.join(checkpoint, "policy.json")) as f:
        policy = json.load(f)
    config = dict(policy["model"], horizon=policy["horizon"])
    return config, policy.get("scheduler", {}).get("num_train_timesteps", 100)


class Ddpm:
    """DDPM with the squaredcos_cap_v2 schedule, epsilon prediction, clipped x0 and fixed_small variance: the
    scheduler diffusion_policy's PushT configs use, written from the formulas (Ho et al. 2020; Nichol & Dhariwal 2021)."""

    def __init__(self, train_steps):
        def alpha_bar(t):
            return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2

        betas = [min(1 - alpha_bar((i + 1) / train_steps) / alpha_bar(i / train_steps), 0.999) for i in range(train_steps)]
        self.betas = torch.tensor(betas, dtype=torch.float32)
        self.alphas = 1.0 - self.betas
        self.alphas_cumprod = torch.cumprod(self.alphas, dim=0)
        self.timesteps = list(range(train_steps - 1, -1, -1))

    def step(self, eps, t, x, generator):
        a_t = self.alphas_cumprod[t]
        a_prev = self.alphas_cumprod[t - 1] if t > 0 else torch.tensor(1.0)
        beta_t = 1 - a_t / a_prev
        x0 = ((x - (1 - a_t).sqrt() * eps) / a_t.sqrt()).clamp(-1, 1)
        mean = (a_prev.sqrt() * beta_t / (1 - a_t)) * x0 + ((1 - beta_t).sqrt() * (1 - a_prev) / (1 - a_t)) * x
        if t == 0:
            return mean
        variance = ((1 - a_prev) / (1 - a_t) * beta_t).clamp(min=1e-20)
        return mean + variance.sqrt() * torch.randn(x.shape, generator=generator)


def percentile(values, q):
    return float(np.percentile(np.asarray(values), q * 100))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dp_src")
    parser.add_argument("checkpoint")
    parser.add_argument("conds")
    parser.add_argument("out")
    parser.add_argument("--threads", default="1")
    parser.add_argument("--chunks", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args()

    install_einops_stand_in()
    sys.path.insert(0, os.path.abspath(args.dp_src))
    from diffusion_policy.model.diffusion.conditional_unet1d import ConditionalUnet1D

    config, train_steps = network_config(args.checkpoint)
    model = ConditionalUnet1D(
        input_dim=config["input_dim"], local_cond_dim=None, global_cond_dim=config["global_cond_dim"],
        diffusion_step_embed_dim=config["diffusion_step_embed_dim"], down_dims=config["down_dims"],
        kernel_size=config["kernel_size"], n_groups=config["n_groups"], cond_predict_scale=config["cond_predict_scale"])
    weights = original_state_dict(read_safetensors(os.path.join(args.checkpoint, "unet.safetensors")))
    model.load_state_dict(weights, strict=True)
    model.eval()

    conds = torch.from_numpy(np.load(args.conds).astype(np.float32))
    if conds.ndim != 2 or conds.shape[1] != config["global_cond_dim"]:
        raise ValueError(f"{args.conds}: shape {tuple(conds.shape)}, expected (n, {config['global_cond_dim']})")
    horizon = config.get("horizon") or 16
    ddpm = Ddpm(train_steps)
    generator = torch.Generator().manual_seed(0)
    default_threads = torch.get_num_threads()

    def chunk(cond):
        x = torch.randn((1, horizon, config["input_dim"]), generator=generator)
        for t in ddpm.timesteps:
            eps = model(x, torch.tensor([t]), global_cond=cond)
            x = ddpm.step(eps, t, x, generator)
        return x

    results = []
    with torch.no_grad():
        for threads in [int(t) for t in args.threads.split(",")]:
            torch.set_num_threads(threads)
            times = []
            for i in range(-args.warmup, args.chunks):
                cond = conds[max(i, 0) % conds.shape[0]].unsqueeze(0)
                started = time.perf_counter()
                trajectory = chunk(cond)
                elapsed = (time.perf_counter() - started) * 1000
                if not torch.isfinite(trajectory).all():
                    raise ValueError("non-finite trajectory")
                if i >= 0:
                    times.append(elapsed)
            results.append({
                "threads": threads,
                "chunk_ms": times,
                "median_ms": percentile(times, 0.5),
                "p99_ms": percentile(times, 0.99),
                "per_call_ms": percentile(times, 0.5) / len(ddpm.timesteps),
            })
    torch.set_num_threads(default_threads)

    report = {
        "torch": torch.__version__,
        "network": "diffusion_policy.model.diffusion.conditional_unet1d.ConditionalUnet1D (original, eager)",
        "weights": f"{len(weights)} tensors of unet.safetensors, load_state_dict(strict=True)",
        "steps": len(ddpm.timesteps),
        "default_threads": default_threads,
        "runs": results,
    }
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
