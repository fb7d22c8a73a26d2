"""reformer.py ("nys", HF LSHSelfAttention) with 3 hash rounds and chunks of 2,
so N = 32 (max_position_embeddings = N, as `op` sets max_len) gets
2^(bit_length(2 * 32 // 2) - 1) = 32 buckets, above the limit
2 * max(int(sqrt(32 // 2)), 2) = 8: HF factorises them into [4, 8]
(bucket = argmax over the first 2 rotation columns +- + 4 * argmax over the
next 4 +-; rotations [H, D, 3, 6]). Rounds 2 and 3 each hash with their own
rotations. The forward is reformer.py's, run on a private copy of that module
with these settings (reformer.py's own fixture keeps its globals)."""
import importlib.util
import os

HASHES, CHUNK, BEFORE = 3, 2, 1
SHAPE = (2, 2, 32, 8)
ATTRS = {"reformer_form": "nys", "reformer_hashes": HASHES, "reformer_chunk": CHUNK, "reformer_chunks_before": BEFORE}
MODEL = "reformer"

_spec = importlib.util.spec_from_file_location(__name__ + "_impl", os.path.join(os.path.dirname(__file__), "reformer.py"))
_rf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_rf)
_rf.HASHES, _rf.CHUNK, _rf.BEFORE = HASHES, CHUNK, BEFORE
assert _rf.set_num_buckets(SHAPE[2], SHAPE[2], CHUNK) == [4, 8]


def make(gen, B, H, N, D):
    return _rf.make(gen, B, H, N, D)


def forward(q, k, v, mask, params, draws):
    return _rf.forward(q, k, v, mask, params, draws)
