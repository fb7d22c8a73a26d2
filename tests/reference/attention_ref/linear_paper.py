"""Linear attention in the paper's form (Katharopoulos et al. 2020, their
fast-transformers LinearAttention): the reference's features (linear.py),
out = Q'(K'^T V') divided by Q' . sum_j K'_j + eps, eps = 1e-6. sbmbench runs it
as model `linear` with linear_form "paper"."""
import torch

from attention_ref.linear import features, make  # noqa: F401 (make: no parameters)

MODEL = "linear"
ATTRS = {"linear_form": "paper"}


def forward(q, k, v, mask, params, draws):
    q, k, v = features(q, k, v, mask)
    z = 1.0 / (torch.einsum("bhnd,bhd->bhn", q, k.sum(dim=2)) + 1e-6)
    return (q @ (k.transpose(-2, -1) @ v)) * z[..., None]
