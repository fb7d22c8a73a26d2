#!/usr/bin/env python3
"""Fixtures for `sbmbench op`: one attention call per variant computed by a
PyTorch implementation of the reference code's semantics (the Nyströmformer
LRA code the SBM paper used; ../shared/reference/lra-data-and-baselines.md §4).

Each fixture holds the op's inputs (/q /k /v /dout /mask, /params/...) and the
expected results under /expected/ (out, dq, dk, dv, grads/...). Run with
Debian's python3-torch:  /usr/bin/python3 tests/reference/make_attention_fixtures.py
CI does not need torch: the fixtures are committed."""
import os
import h5py
import numpy as np
import torch

torch.manual_seed(0)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")
B, H, N, D = 2, 2, 16, 8


def softmax_attention(q, k, v, mask):
    """attention.py SoftmaxAttention without dropout."""
    dot = q @ k.transpose(-2, -1) / np.sqrt(q.size(-1))
    dot = dot - 1e6 * (1 - mask[:, None, None, :])
    return torch.softmax(dot, dim=-1) @ v


def linear_attention(q, k, v, mask):
    """attention_linear.py: elu+1 features scaled by N^(-1/4), no normaliser."""
    q = (torch.nn.functional.elu(q) + 1) / q.size(2) ** 0.25
    k = (torch.nn.functional.elu(k) + 1) * mask[:, None, :, None] / k.size(2) ** 0.25
    v = v * mask[:, None, :, None]
    return q @ (k.transpose(-2, -1) @ v)


def write(name, fn):
    g = torch.Generator().manual_seed(1234)
    q, k, v, dout = (torch.randn(B, H, N, D, generator=g) for _ in range(4))
    mask = torch.ones(B, N)
    mask[1, N - 5:] = 0  # example 1 ends in padding
    qs, ks, vs = (x.clone().requires_grad_(True) for x in (q, k, v))
    out = fn(qs, ks, vs, mask)
    out.backward(dout)
    path = os.path.join(OUT, name + ".h5")
    with h5py.File(path, "w") as f:
        for n, x in [("q", q), ("k", k), ("v", v), ("dout", dout), ("mask", mask)]:
            f[n] = x.numpy().astype(np.float32)
        for n, x in [("out", out), ("dq", qs.grad), ("dk", ks.grad), ("dv", vs.grad)]:
            f["expected/" + n] = x.detach().numpy().astype(np.float32)
    print("wrote", path)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    write("full", softmax_attention)
    write("linear", linear_attention)
