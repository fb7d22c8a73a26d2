"""attention_performer.py -> performer_pytorch (v1.1.x) FastAttention(dim_heads=d,
nb_features=M, causal=False, kernel_fn=ReLU): kernel_fn is unused (generalized_attention
is False), so this is the FAVOR+ softmax kernel with positive random features. The NYS
wrapper divides Q and K by d^(1/4) and masks K and V; softmax_kernel scales by d^(-1/4)
again. omega is a fixed buffer (a frozen parameter in sbmbench): no gradient."""
import math

import torch

SHAPE = (2, 2, 16, 8)
M = 20  # two full orthogonal blocks of 8 rows and a partial one of 4
ATTRS = {"performer_features": M}


def configure(settings):
    """Other settings (manifest keys), e.g. the paper's for bench/torch_attention_variants.py."""
    global M
    M = settings["performer_features"]


def gaussian_orthogonal_random_matrix(gen, nb_rows, nb_columns):
    blocks = []
    for _ in range(int(math.ceil(nb_rows / nb_columns))):
        q, _ = torch.linalg.qr(torch.randn(nb_columns, nb_columns, generator=gen), mode="reduced")
        blocks.append(q.t())
    final = torch.cat(blocks)[:nb_rows]
    multiplier = torch.randn(nb_rows, nb_columns, generator=gen).norm(dim=1)  # scaling = 0
    return torch.diag(multiplier) @ final


def make(gen, B, H, N, D):
    return {"omega": gaussian_orthogonal_random_matrix(gen, M, D)}, {}


def softmax_kernel(data, *, projection_matrix, is_query, normalize_data=True, eps=1e-4):
    data_normalizer = (data.shape[-1] ** -0.25) if normalize_data else 1.
    ratio = projection_matrix.shape[0] ** -0.5
    data_dash = torch.einsum('...id,...jd->...ij', (data_normalizer * data), projection_matrix)
    diag_data = data ** 2
    diag_data = torch.sum(diag_data, dim=-1)
    diag_data = (diag_data / 2.0) * (data_normalizer ** 2)
    diag_data = diag_data.unsqueeze(dim=-1)
    if is_query:
        data_dash = ratio * (
            torch.exp(data_dash - diag_data - torch.amax(data_dash, dim=-1, keepdim=True).detach()) + eps)
    else:
        data_dash = ratio * (
            torch.exp(data_dash - diag_data - torch.amax(data_dash, dim=(-1, -2), keepdim=True).detach()) + eps)
    return data_dash


def linear_attention(q, k, v):
    k_cumsum = k.sum(dim=-2)
    D_inv = 1. / torch.einsum('...nd,...d->...n', q, k_cumsum)
    context = torch.einsum('...nd,...ne->...de', k, v)
    return torch.einsum('...de,...nd,...n->...ne', context, q, D_inv)


def forward(q, k, v, mask, params, draws):
    d = q.size(-1)
    m = mask[:, None, :, None]
    omega = params["omega"].detach()  # a registered buffer in the reference
    Q, K, V = q / math.sqrt(math.sqrt(d)), k / math.sqrt(math.sqrt(d)) * m, v * m
    return linear_attention(softmax_kernel(Q, projection_matrix=omega, is_query=True),
                            softmax_kernel(K, projection_matrix=omega, is_query=False), V)
