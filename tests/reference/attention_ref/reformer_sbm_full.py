"""reformer_sbm.py at N = 16 = bucket_size: LSHSelfAttention's kv_len <=
full_attn_thres, so reformer_pytorch 1.4.4 runs FullQKAttention (self -5e4
first, then pad queries and keys -FLT_MAX: a pad query's row is uniform)."""
from attention_ref.reformer_sbm import ATTRS, MODEL, forward, make  # noqa: F401

SHAPE = (2, 2, 16, 8)
