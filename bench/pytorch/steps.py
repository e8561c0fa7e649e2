"""PyTorch CPU side of genblocks' step benchmarks: the same nets, the same steps, the same batch.

    /usr/bin/python3 bench/pytorch/steps.py NET [--batch B] [--warmup W] [--repeats R] [--threads 1,2]
    /usr/bin/python3 bench/pytorch/steps.py NET|all --params-only     # {net: trainable parameters}

NET is one of mlp-gan, dcgan, gpt, unet, unet-sample, pixelcnn (see STEPS below). For each thread
count the step runs in a fresh process with torch.set_num_threads(n) and OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS and MKL_NUM_THREADS set to n, and with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
removed from that process's environment so that OpenBLAS picks its own kernels for the CPU.
It prints one JSON object on stdout:

    {"net", "torch", "blas", "batch", "params", "recipe",
     "threads": {"1": {"medianMs", "p25Ms", "p75Ms", "runs"}, "2": {...}},
     "best": {"threads", "medianMs"}}

"blas" is the BLAS library the process loaded ("openblas", or "reference": Debian's reference
BLAS, about 20x slower for products, which would flatter genblocks; install libopenblas0-pthread).
Needs only Debian's python3-torch (torch 1.13): see bench/README.md.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, HERE)  # nets.py (imported where needed: torch loads only in the timed processes)


def loaded_blas():
    """Which BLAS this process mapped: 'openblas', 'reference' or 'unknown' (Linux /proc only)."""
    try:
        with open("/proc/self/maps") as f:
            maps = f.read()
    except OSError:
        return "unknown"
    if "openblas" in maps:
        return "openblas"
    if "libblas.so" in maps:
        return "reference"
    return "unknown"


def quantile(sorted_values, q):
    pos = (len(sorted_values) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


# --- steps: each returns (step function, trainable parameter count, recipe) --------------------


def gan_step(builder, batch):
    import torch
    import torch.nn.functional as F

    import nets

    generator, discriminator, latent, shape = getattr(nets, builder)()
    generator.train()
    discriminator.train()
    g_opt = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    z = torch.randn(batch, latent)
    real = torch.rand(batch, *shape) * 2 - 1

    def step():
        # Discriminator update: the generator runs forward only (no gradient through it).
        with torch.no_grad():
            fake = generator(z)
        d_loss = F.softplus(-discriminator(real)).mean() + F.softplus(discriminator(fake)).mean()
        d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        d_opt.step()
        # Generator update: the generator runs again (as the tfjs step does), and the
        # discriminator's weights are frozen so that only its input gradient is computed.
        for p in discriminator.parameters():
            p.requires_grad_(False)
        g_loss = F.softplus(-discriminator(generator(z))).mean()
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        g_opt.step()
        for p in discriminator.parameters():
            p.requires_grad_(True)
        return d_loss.item() + g_loss.item()

    recipe = ("D update on G(z) without grad, then G update recomputing G(z) with D frozen "
              "(the tfjs step's FLOPs); non-saturating losses on logits; Adam(2e-4, 0.5) each")
    return step, nets.trainable_parameters(generator, discriminator), recipe


def gpt_step(batch, vocab=98, block=64, layers=4, heads=4, width=128):
    import torch
    import torch.nn.functional as F

    import nets

    model = nets.Gpt(vocab, block, layers, heads, width)
    model.train()
    optimizer = torch.optim.AdamW(nets.adamw_groups(model, 0.1), lr=1e-3, betas=(0.9, 0.99), eps=1e-8)
    x = torch.randint(0, vocab, (batch, block))
    y = torch.randint(0, vocab, (batch, block))
    parameters = list(model.parameters())

    def step():
        loss = F.cross_entropy(model(x).view(-1, vocab), y.view(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        return loss.item()

    recipe = (f"nets.gpt {layers} layers, {heads} heads, width {width}, block {block}, vocab {vocab}; "
              "cross entropy; AdamW(1e-3, 0.9, 0.99, wd 0.1 on matrices only); clip 1.0")
    return step, nets.trainable_parameters(model), recipe


def linear_alphas_cumprod(timesteps=1000, beta_start=1e-4, beta_end=0.02):
    import torch

    betas = torch.linspace(beta_start, beta_end, timesteps, dtype=torch.float64)
    return torch.cumprod(1 - betas, 0).float()


def unet_step(batch, sample=False):
    import torch
    import torch.nn.functional as F

    import nets

    model = nets.Unet(image_shape=(28, 28, 1), base=32, multipliers=(1, 2, 2), residual_blocks=2, groups=8)
    alphas_cumprod = linear_alphas_cumprod()
    x0 = torch.rand(batch, 1, 28, 28) * 2 - 1
    params = nets.trainable_parameters(model)
    if sample:
        model.eval()
        t = torch.full((batch,), 500)

        def step():
            with torch.no_grad():
                return model(x0, t).sum().item()

        return step, params, "one UNet forward at batch %d without gradients (one sampler step's network call)" % batch

    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-4)

    def step():
        # diffusion.trainingLoss: t ~ U{0..T-1}, x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps, MSE on eps.
        t = torch.randint(0, 1000, (batch,))
        noise = torch.randn_like(x0)
        abar = alphas_cumprod[t].view(-1, 1, 1, 1)
        xt = abar.sqrt() * x0 + (1 - abar).sqrt() * noise
        loss = F.mse_loss(model(xt, t), noise)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.item()

    recipe = ("nets.unet base 32, multipliers [1,2,2], 2 residual blocks, GroupNorm 8, attention at 7x7; "
              "epsilon MSE with the linear schedule (T 1000); Adam(5e-4)")
    return step, params, recipe


def pixelcnn_step(batch, filters=32, layers=4):
    import torch
    import torch.nn.functional as F

    import nets

    model = nets.PixelCnn(filters, layers, levels=2)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = (torch.rand(batch, 1, 28, 28) > 0.5).float()
    targets = x.long().squeeze(1)

    def step():
        loss = F.cross_entropy(model(x), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.item()

    # As bench/autoregressive.bench.ts' PixelCNN row: no gradient clipping (the example clips at 1).
    recipe = f"nets.pixelCnn {layers} blocks of {filters} filters, binary 28x28 images; cross entropy; Adam(1e-3)"
    return step, nets.trainable_parameters(model), recipe


STEPS = {
    "mlp-gan": (64, lambda b: gan_step("mlp_gan", b)),
    "dcgan": (64, lambda b: gan_step("dcgan", b)),
    "gpt": (12, gpt_step),
    "unet": (64, unet_step),
    "unet-sample": (64, lambda b: unet_step(b, sample=True)),
    "pixelcnn": (64, pixelcnn_step),
}


def child(args):
    """Times one step at one thread count in this process and prints its JSON."""
    import torch

    torch.set_num_threads(args.threads_one)
    torch.manual_seed(0)
    step, params, recipe = STEPS[args.net][1](args.batch)
    for _ in range(args.warmup):
        step()
    samples = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        step()
        samples.append((time.perf_counter() - t0) * 1000)
    s = sorted(samples)
    print(json.dumps({
        "medianMs": statistics.median(s), "p25Ms": quantile(s, 0.25), "p75Ms": quantile(s, 0.75), "runs": len(s),
        "params": params, "recipe": recipe, "torch": torch.__version__, "blas": loaded_blas(),
        "torchThreads": torch.get_num_threads(),
    }))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("net", choices=sorted(STEPS) + ["all"], help="which step ('all' only with --params-only)")
    parser.add_argument("--batch", type=int)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    parser.add_argument("--params-only", action="store_true", help="print the trainable parameter count and exit")
    parser.add_argument("--child", type=int, dest="threads_one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.params_only:
        names = sorted(STEPS) if args.net == "all" else [args.net]
        print(json.dumps({name: STEPS[name][1](args.batch or STEPS[name][0])[1] for name in names}))
        return
    if args.net == "all":
        parser.error("'all' needs --params-only")
    args.batch = args.batch or STEPS[args.net][0]
    if args.threads_one is not None:
        child(args)
        return

    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    result = {"net": args.net, "batch": args.batch, "threads": {}}
    for n in [int(s) for s in args.threads.split(",") if s.strip()]:
        env_n = dict(env, OMP_NUM_THREADS=str(n), OPENBLAS_NUM_THREADS=str(n), MKL_NUM_THREADS=str(n))
        cmd = [sys.executable, os.path.abspath(__file__), args.net, "--child", str(n), "--batch", str(args.batch),
               "--warmup", str(args.warmup), "--repeats", str(args.repeats)]
        run = subprocess.run(cmd, env=env_n, capture_output=True, text=True)
        if run.returncode != 0:
            sys.stderr.write(run.stderr)
            sys.exit(run.returncode)
        one = json.loads(run.stdout.strip().splitlines()[-1])
        for key in ("params", "recipe", "torch", "blas"):
            result[key] = one.pop(key)
        result["threads"][str(n)] = one
    best = min(result["threads"].items(), key=lambda kv: kv[1]["medianMs"])
    result["best"] = {"threads": int(best[0]), "medianMs": best[1]["medianMs"]}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
