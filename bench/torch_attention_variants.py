#!/usr/bin/env python3
"""The PyTorch reference semantics of each attention variant
(tests/reference/attention_ref/<name>.py, the modules that make the op
fixtures), timed at the shapes of bench_attention_variants: one example,
`--heads` heads of width `--d`, n tokens, no padding, the paper's settings.
Prints one JSON object per line (train_ms = forward+backward, infer_ms =
forward under no_grad; medians over --reps after one warm-up).

    /usr/bin/python3 bench/torch_attention_variants.py [--n 1024,2048,4096]
        [--heads 2] [--d 32] [--reps 5] [--threads T] [VARIANT ...]"""
import argparse
import importlib
import json
import os
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))

# the manifest defaults (experiments/config.c): the settings the SBM paper ran
PAPER = {"linformer_k": 256, "performer_features": 256, "performer_kernel": "reference",
         "reformer_hashes": 2, "reformer_chunk": 64, "reformer_chunks_before": 1,
         "nystrom_landmarks": 256, "nystrom_conv": 35}


def timed(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(ts)


def bench(name, n, heads, d, reps):
    mod = importlib.import_module("attention_ref." + name)
    if hasattr(mod, "configure"):
        mod.configure(dict(PAPER, max_len=n))
    g = torch.Generator().manual_seed(5)
    q, k, v, dout = (torch.randn(1, heads, n, d, generator=g) for _ in range(4))
    mask = torch.ones(1, n)
    params, draws = mod.make(g, 1, heads, n, d)
    leaves = [x.requires_grad_(True) for x in (q, k, v)] + [p.requires_grad_(True) for p in params.values()]

    def train():
        for x in leaves:
            x.grad = None
        mod.forward(q, k, v, mask, params, draws).backward(dout)

    def infer():
        with torch.no_grad():
            mod.forward(q, k, v, mask, params, draws)

    return {"variant": name, "n": n, "heads": heads, "d": d, "threads": torch.get_num_threads(),
            "train_ms": timed(train, reps), "infer_ms": timed(infer, reps)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", default="1024,2048,4096")
    ap.add_argument("--heads", type=int, default=2)
    ap.add_argument("--d", type=int, default=32)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("variants", nargs="*")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    names = a.variants or ["full", "linear", "linformer", "performer", "reformer", "nystrom"]
    for name in names:
        for n in (int(x) for x in a.n.split(",")):
            print(json.dumps(bench(name, n, a.heads, a.d, a.reps)), flush=True)


if __name__ == "__main__":
    main()
