"""attention_nystrom.py (NystromAttention, init option "original", with the
skip convolution), line for line: N = 16 tokens, m = 4 landmarks (segments
of 4, the last one of example 1 all padding, the one before it partly),
a 5-tap convolution. The landmark path only (m = N takes the exact-softmax
branch, checked by tests/test_grad_baselines.c)."""
import math

import torch

M, TAPS = 4, 5
ATTRS = {"nystrom_landmarks": M, "nystrom_conv": TAPS}


def configure(settings):
    """Other settings (manifest keys), e.g. the paper's for bench/torch_attention_variants.py."""
    global M, TAPS
    M, TAPS = settings["nystrom_landmarks"], settings["nystrom_conv"]


def make(gen, B, H, N, D):
    # torch Conv2d default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = TAPS
    w = (torch.rand(H, TAPS, generator=gen) * 2 - 1) / math.sqrt(TAPS)
    return {"conv": w}, {}


def iterative_inv(mat, n_iter=6):
    I = torch.eye(mat.size(-1), device=mat.device)
    K = mat
    V = 1 / torch.max(torch.sum(K, dim=-2)) * K.transpose(-1, -2)
    for _ in range(n_iter):
        KV = torch.matmul(K, V)
        V = torch.matmul(0.25 * V, 13 * I - torch.matmul(KV, 15 * I - torch.matmul(KV, 7 * I - KV)))
    return V


def forward(Q, K, V, mask, params, draws):
    B, H, N, D = Q.shape
    Q = Q * mask[:, None, :, None] / math.sqrt(math.sqrt(D))
    K = K * mask[:, None, :, None] / math.sqrt(math.sqrt(D))
    if M == N:
        attn = torch.nn.functional.softmax(torch.matmul(Q, K.transpose(-1, -2)) - 1e9 * (1 - mask[:, None, None, :]), dim=-1)
        X = torch.matmul(attn, V)
    else:
        Q_landmarks = Q.reshape(-1, H, M, N // M, D).mean(dim=-2)
        K_landmarks = K.reshape(-1, H, M, N // M, D).mean(dim=-2)
        kernel_1 = torch.nn.functional.softmax(torch.matmul(Q, K_landmarks.transpose(-1, -2)), dim=-1)
        kernel_2 = torch.nn.functional.softmax(torch.matmul(Q_landmarks, K_landmarks.transpose(-1, -2)), dim=-1)
        kernel_3 = torch.nn.functional.softmax(torch.matmul(Q_landmarks, K.transpose(-1, -2)) - 1e9 * (1 - mask[:, None, None, :]), dim=-1)
        X = torch.matmul(torch.matmul(kernel_1, iterative_inv(kernel_2)), torch.matmul(kernel_3, V))
    conv_w = params["conv"].reshape(H, 1, TAPS, 1)
    X = X + torch.nn.functional.conv2d(V * mask[:, None, :, None], conv_w, padding=(TAPS // 2, 0), groups=H)
    return X
