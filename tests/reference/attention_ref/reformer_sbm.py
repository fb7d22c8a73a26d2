"""The SBM-Transformer code's Reformer (code/attention_reformer.py): the REAL
reformer_pytorch 1.4.4 LSHSelfAttention(dim, heads=2, n_hashes=2), called as
attn(X, input_mask=mask.bool()), here with bucket_size 16 (instead of 64) so
N = 64 has 4 buckets and 2 x 4 chunks per head, and padding. `op` takes the
shared query/key q and the values v where the module takes X, so the module's
bias-free toqk and tov are swapped for slices of X = [q heads | v heads]
(toqk = [I 0], tov = [0 I]) and its to_out for the fixture's to_out_w and
to_out_b; everything else (heads merged and split, the mask expanded over
heads, full_attn_thres = bucket_size, LSHAttention or FullQKAttention) is the
library's own code. The rotations its hash_vectors draws with torch.randn
(1, D, n_hashes, nb/2) are the fixture's "rotations". k is unused (shared QK).
reformer_sbm_full.py is the same at N = 16 <= bucket_size: FullQKAttention.

Needs reformer-pytorch 1.4.4, the version the SBM code pins (requirements.txt):
    /usr/bin/python3 -m venv --system-site-packages /tmp/rfvenv
    /tmp/rfvenv/bin/pip install --no-deps reformer-pytorch==1.4.4 einops==0.8.2 \\
        local-attention==1.4.3 product-key-memory==0.1.10 axial-positional-embedding==0.2.1
    /tmp/rfvenv/bin/python tests/reference/make_attention_fixtures.py reformer_sbm reformer_sbm_full"""
import contextlib
import importlib.metadata

import torch
from torch import nn
from reformer_pytorch import LSHSelfAttention

assert importlib.metadata.version("reformer-pytorch") == "1.4.4", "the SBM code pins reformer-pytorch 1.4.4"

SHAPE = (2, 2, 64, 8)
HASHES, BUCKET = 2, 16
ATTRS = {"reformer_form": "sbm", "reformer_hashes": HASHES, "reformer_chunk": BUCKET, "reformer_chunks_before": 1}
MODEL = "reformer"


def rotation_shape(D, N):
    """hash_vectors' (1 if not random_rotations_per_head, dim, n_hashes, n_buckets // 2)"""
    return (1, D, HASHES, N // BUCKET // 2)


def make(gen, B, H, N, D):
    """to_out as torch.nn.Linear(H D, H D) initialises it, U(+-1/sqrt(H D)); for N >
    bucket_size, rotations drawn until no token (pads are hashed too) lies within 1e-3
    of a bucket boundary, so float rounding (torch vs C) cannot flip a bucket. q is the
    generator's first draw (make_attention_fixtures.py), regenerated here to measure."""
    HD = H * D
    bound = HD ** -0.5
    params = {"to_out_w": (2 * torch.rand(HD, HD, generator=gen) - 1) * bound,
              "to_out_b": (2 * torch.rand(HD, generator=gen) - 1) * bound}
    if N <= BUCKET:
        return params, {}
    q = torch.randn(B, H, N, D, generator=torch.Generator().manual_seed(1234))
    while True:
        rot = torch.randn(*rotation_shape(D, N), generator=gen)
        if min_hash_margin(q, rot) > 1e-3:
            return params, {"rotations": rot}


def min_hash_margin(q, rot):
    """Smallest gap between the best and second-best of [xR, -xR] over all tokens."""
    B, H, N, D = q.shape
    rv = torch.einsum("btf,bfhi->bhti", q.reshape(B * H, N, D), rot.expand(B * H, -1, -1, -1))
    top = torch.topk(torch.cat([rv, -rv], dim=-1), 2, dim=-1).values
    return (top[..., 0] - top[..., 1]).min().item()


@contextlib.contextmanager
def fixed_rotations(rot):
    """hash_vectors' torch.randn(rotations_shape, dtype, device) returns rot."""
    real = torch.randn

    def randn(*size, **kw):
        shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list, torch.Size)) else size
        assert shape == tuple(rot.shape), (shape, rot.shape)
        return rot.clone()

    torch.randn = randn
    try:
        yield
    finally:
        torch.randn = real


class Cols(nn.Module):
    """x[..., lo:hi]: toqk / tov as the bias-free projections [I 0] and [0 I]."""

    def __init__(self, lo, hi):
        super().__init__()
        self.lo, self.hi = lo, hi

    def forward(self, x):
        return x[..., self.lo:self.hi]


class Linear(nn.Module):
    """to_out with the fixture's weight and bias (leaves that collect the gradients)."""

    def __init__(self, w, b):
        super().__init__()
        self.w, self.b = w, b

    def forward(self, x):
        return nn.functional.linear(x, self.w, self.b)


def heads_to_rows(x):
    """[B,H,N,D] -> [B,N,H D] (the module's split_heads order)"""
    B, H, N, D = x.shape
    return x.transpose(1, 2).reshape(B, N, H * D)


def forward(q, k, v, mask, params, draws):
    B, H, N, D = q.shape
    HD = H * D
    attn = LSHSelfAttention(2 * HD, heads=H, dim_head=D, bucket_size=BUCKET, n_hashes=HASHES, return_attn=False)
    attn.toqk, attn.tov = Cols(0, HD), Cols(HD, 2 * HD)
    attn.to_out = Linear(params["to_out_w"], params["to_out_b"])
    X = torch.cat([heads_to_rows(q), heads_to_rows(v)], dim=-1)  # [B,N,2HD]
    ctx = fixed_rotations(draws["rotations"]) if "rotations" in draws else contextlib.nullcontext()
    with ctx:
        y = attn(X, input_mask=mask.bool())  # [B,N,HD]
    return y.reshape(B, N, H, D).transpose(1, 2)
