"""Performer with performer_kernel "paper": performer_pytorch's FastAttention
called on the raw Q, K * mask and V * mask (no wrapper dividing Q and K by
d^(1/4) first), so softmax_kernel's own d^(-1/4) is the only scaling: the
features approximate exp(q.k / sqrt(d)), the Performer paper's softmax kernel.
Everything else (omega, the maxes, the normaliser, padding) is performer.py's.
sbmbench runs it as model `performer` with performer_kernel "paper"."""
from attention_ref.performer import ATTRS as _REF_ATTRS
from attention_ref.performer import SHAPE, linear_attention, make, softmax_kernel  # noqa: F401

MODEL = "performer"
ATTRS = dict(_REF_ATTRS, performer_kernel="paper")


def forward(q, k, v, mask, params, draws):
    m = mask[:, None, :, None]
    omega = params["omega"].detach()  # a registered buffer in the reference
    return linear_attention(softmax_kernel(q, projection_matrix=omega, is_query=True),
                            softmax_kernel(k * m, projection_matrix=omega, is_query=False), v * m)
