#!/usr/bin/python3
"""PyTorch twin of bench/bench_train_step.c: one training step of the LRA Image
configuration (n=1024, d=64, 2 layers, 2 heads, batch 8, softmax attention),
fp32 on the CPU, mirroring the LRA reference code (Nystromformer/SBM
`model.py`, `attention.py`, `model_wrapper.py`):

  X = Dropout(TokEmb[ids] + PosEmb[t])          both embeddings N(0, 0.02)
  per layer (pre-LN):
    X = Dropout(ff(Attn(LN1(X)))) + X           Attn = W_q/W_k/W_v, SoftmaxAttention
    X = Dropout(Lin(GELU-Dropout(Lin(LN2(X))))) + X
  X = LN(X) * mask[:, :, None]; mean over tokens
  logits = Linear(64,128) -> ReLU -> Linear(128,10); CE loss (mean)
  AdamW(eps=1e-6)

A step is zero_grad + forward + backward + optimizer.step(), as in the C
benchmark. FLOPs: the C program's exact count (--flops N, or --c-json FILE
written by `bench_train_step --json`), else an analytic count of the GEMM
FLOPs only (which is a lower bound of the C count).

Run with Debian's interpreter (python3-torch): /usr/bin/python3.
"""
import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn as nn


class Embeddings(nn.Module):
    def __init__(self, vocab, max_len, dim, p):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, dim)
        torch.nn.init.normal_(self.word_embeddings.weight, std=0.02)
        self.position_embeddings = nn.Embedding(max_len, dim)
        torch.nn.init.normal_(self.position_embeddings.weight, std=0.02)
        self.dropout = nn.Dropout(p=p)

    def forward(self, input_ids):
        batch_size, seq_len = input_ids.size()
        position_ids = torch.arange(seq_len, dtype=torch.long, device=input_ids.device)[None, :].repeat(batch_size, 1)
        X = self.word_embeddings(input_ids) + self.position_embeddings(position_ids)
        return self.dropout(X)


class SoftmaxAttention(nn.Module):
    def __init__(self, head_dim, p):
        super().__init__()
        self.drop_attn = nn.Dropout(p=p)
        self.head_dim = head_dim

    def forward(self, Q, K, V, mask):
        dot = torch.matmul(Q, torch.transpose(K, -2, -1))
        dot = dot / math.sqrt(self.head_dim)
        dot = dot - 1e6 * (1 - mask[:, None, None, :])
        attn = nn.functional.softmax(dot, dim=-1)
        attn = self.drop_attn(attn)
        return torch.matmul(attn, V)


class Attention(nn.Module):
    def __init__(self, dim, num_head, head_dim, attn_p):
        super().__init__()
        self.num_head, self.head_dim = num_head, head_dim
        self.W_q = nn.Linear(dim, num_head * head_dim)
        self.W_k = nn.Linear(dim, num_head * head_dim)
        self.W_v = nn.Linear(dim, num_head * head_dim)
        self.attn = SoftmaxAttention(head_dim, attn_p)
        self.ff = nn.Linear(num_head * head_dim, dim)

    def split_heads(self, X):
        X = X.reshape(X.size(0), X.size(1), self.num_head, self.head_dim)
        return X.transpose(1, 2)

    def combine_heads(self, X):
        X = X.transpose(1, 2)
        return X.reshape(X.size(0), X.size(1), self.num_head * self.head_dim)

    def forward(self, X, mask):
        Q = self.split_heads(self.W_q(X))
        K = self.split_heads(self.W_k(X))
        V = self.split_heads(self.W_v(X))
        attn_out = self.attn(Q.float(), K.float(), V.float(), mask.float())
        return self.ff(self.combine_heads(attn_out))


class TransformerBlock(nn.Module):
    def __init__(self, dim, hidden, num_head, head_dim, p, attn_p):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.mha = Attention(dim, num_head, head_dim, attn_p)
        self.dropout1 = nn.Dropout(p=p)
        self.norm2 = nn.LayerNorm(dim)
        self.mlpblock = nn.Sequential(
            nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(p=p),
            nn.Linear(hidden, dim), nn.Dropout(p=p))

    def forward(self, X, mask):
        X = self.dropout1(self.mha(self.norm1(X), mask)) + X
        X = self.mlpblock(self.norm2(X)) + X
        return X


class ModelForSC(nn.Module):
    def __init__(self, vocab, max_len, dim, hidden, layers, num_head, head_dim, classes, p, attn_p):
        super().__init__()
        self.embeddings = Embeddings(vocab, max_len, dim, p)
        self.layers = nn.ModuleList(
            [TransformerBlock(dim, hidden, num_head, head_dim, p, attn_p) for _ in range(layers)])
        self.norm = nn.LayerNorm(dim)
        self.seq_classifer = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, classes))

    def forward(self, input_ids, mask, label):
        X = self.embeddings(input_ids)
        for layer in self.layers:
            X = layer(X, mask)
        X = self.norm(X) * mask[:, :, None]
        scores = self.seq_classifer(X.mean(dim=1))
        return torch.nn.CrossEntropyLoss(reduction="none")(scores, label)


def analytic_gemm_flops(B, T, D, L, H, Dh, F, C):
    """GEMM FLOPs of one step (2 per multiply-add; backward = 2x forward)."""
    HD = H * Dh
    per_layer = 2 * B * T * D * 3 * HD + 4 * B * H * T * T * Dh + 2 * B * T * HD * D + 4 * B * T * D * F
    head = 2 * B * D * F + 2 * B * F * C
    return 3 * (L * per_layer + head)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--flops", type=int, default=None, help="FLOPs of one step (the C program's count)")
    ap.add_argument("--c-json", default=None, help="read flops_total from bench_train_step --json output")
    ap.add_argument("--json", default=None, help="write results as JSON")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    B, T = args.batch, args.seq
    D, L, H, Dh, F, C, V = 64, 2, 2, 32, 128, 10, 512
    model = ModelForSC(V, max(T, 1024), D, F, L, H, Dh, C, 0.1, 0.1)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.01)

    ids = torch.randint(1, 512, (B, T), dtype=torch.long)
    mask = torch.ones(B, T, dtype=torch.float32)
    label = torch.randint(0, C, (B,), dtype=torch.long)

    def step():
        opt.zero_grad()
        loss = model(ids, mask, label).mean()
        loss.backward()
        opt.step()

    for _ in range(args.warmup):
        step()
    ts = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        ts.append(time.perf_counter() - t0)
    t_med, t_min = statistics.median(ts), min(ts)

    flops_src = "analytic GEMM count"
    flops = analytic_gemm_flops(B, T, D, L, H, Dh, F, C)
    if args.c_json:
        with open(args.c_json) as f:
            flops = int(json.load(f)["flops_total"])
        flops_src = "C program's exact count (" + args.c_json + ")"
    if args.flops is not None:
        flops, flops_src = args.flops, "--flops"

    gf_med, gf_min = flops / t_med * 1e-9, flops / t_min * 1e-9
    print("torch_train_step: LRA Image, softmax attention, PyTorch %s CPU fp32" % torch.__version__)
    print("  config     B=%d n=%d d=%d layers=%d heads=%d d_head=%d d_ffn=%d params=%d"
          % (B, T, D, L, H, Dh, F, sum(p.numel() for p in model.parameters())))
    print("  threads    %d" % torch.get_num_threads())
    print("  steps      %d timed after %d warm-up" % (args.steps, args.warmup))
    print("  ms/step    median %.2f  min %.2f" % (t_med * 1e3, t_min * 1e3))
    print("  FLOPs      %d per step (%s)" % (flops, flops_src))
    print("  GFLOP/s    %.2f (median)  %.2f (best)" % (gf_med, gf_min))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"impl": "pytorch", "torch_version": torch.__version__, "batch": B, "seq_len": T,
                       "threads": torch.get_num_threads(), "steps": args.steps,
                       "ms_per_step_median": t_med * 1e3, "ms_per_step_min": t_min * 1e3,
                       "flops_total": flops, "flops_source": flops_src,
                       "gflops_median": gf_med, "gflops_best": gf_min}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
