#!/usr/bin/env python3
"""Fixtures for `sbmbench op`: one attention call per variant computed by a
PyTorch implementation of the reference code's semantics (the Nyströmformer
LRA code the SBM paper used: mlpen/Nystromformer, LRA/code/).

One module per variant in attention_ref/<name>.py defines
  SHAPE = (B, H, N, D)                          optional, default (2, 2, 16, 8)
  ATTRS = {...}                                 root attributes (manifest keys) for `op`
  make(gen, B, H, N, D) -> (params, draws)      dicts of tensors: trained
                                                parameters (gradients expected)
                                                and fixed random draws
  forward(q, k, v, mask, params, draws) -> out
  TOL = 2e-5                                    optional: absolute tolerance
  MODEL = "<name>"                              optional: the `op` model, when a
                                                module is one setting of another
Each fixture holds the op's inputs (/q /k /v /dout /mask, /params/...) and
the expected results under /expected/ (out, dq, dk, dv, grads/<param>).
Run with Debian's python3-torch (CI does not need torch; fixtures are committed):
    /usr/bin/python3 tests/reference/make_attention_fixtures.py [NAME ...]
A module that runs an outside library (reformer_sbm*: reformer-pytorch 1.4.4)
says in its docstring how to install it; where the import fails, the module
is skipped with a message (exit status 1) and the others are written."""
import importlib
import os
import sys

import h5py
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")
sys.path.insert(0, HERE)


def write(name):
    mod = importlib.import_module("attention_ref." + name)
    B, H, N, D = getattr(mod, "SHAPE", (2, 2, 16, 8))
    g = torch.Generator().manual_seed(1234)
    q, k, v, dout = (torch.randn(B, H, N, D, generator=g) for _ in range(4))
    mask = torch.ones(B, N)
    mask[1, N - 5:] = 0  # example 1 ends in padding
    params, draws = mod.make(g, B, H, N, D)
    qs, ks, vs = (x.clone().requires_grad_(True) for x in (q, k, v))
    ps = {n: x.clone().requires_grad_(True) for n, x in params.items()}
    out = mod.forward(qs, ks, vs, mask, ps, draws)
    out.backward(dout)
    path = os.path.join(OUT, name + ".h5")
    with h5py.File(path, "w") as f:
        for n, x in [("q", q), ("k", k), ("v", v), ("dout", dout), ("mask", mask)]:
            f[n] = x.numpy().astype(np.float32)
        for n, x in list(params.items()) + list(draws.items()):
            f["params/" + n] = x.numpy().astype(np.float32)
        for n, x in [("out", out), ("dq", qs.grad), ("dk", ks.grad), ("dv", vs.grad)]:
            g_ = x if x is not None else torch.zeros(B, H, N, D)
            f["expected/" + n] = g_.detach().numpy().astype(np.float32)
        for n, x in ps.items():
            gr = x.grad if x.grad is not None else torch.zeros_like(x)
            f["expected/grads/" + n] = gr.numpy().astype(np.float32)
        # absolute tolerance of the comparison (values are O(1)); a variant
        # whose float32 rounding compounds (iterations) sets a larger TOL
        f["expected"].attrs["tolerance"] = getattr(mod, "TOL", 2e-5)
        f["expected"].attrs["model"] = getattr(mod, "MODEL", name)
        for a, val in getattr(mod, "ATTRS", {}).items():
            f.attrs[a] = val
    print("wrote", path)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    names = sys.argv[1:] or sorted(f[:-3] for f in os.listdir(os.path.join(HERE, "attention_ref"))
                                   if f.endswith(".py") and not f.startswith("_"))
    skipped = []
    for n in names:
        try:
            write(n)
        except ModuleNotFoundError as e:
            print(f"skipped {n}: {e} (see attention_ref/{n}.py)", file=sys.stderr)
            skipped.append(n)
    sys.exit(1 if skipped else 0)
