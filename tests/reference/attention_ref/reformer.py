"""reformer_form "nys": the Nystromformer LRA code's
attention_reformer.py -> HF transformers (3.3.x) LSHSelfAttention, non-cached path,
num_hashes=2, is_decoder=False, lsh_num_chunks_after=0, dropout 0; here with chunk 8
(instead of 64) so N=32 has 4 chunks per round and padding. query_key is tied to W_q
(shared QK): the op's q is the shared vector and k is unused (its gradient is zero).
The rotations that `randn(H, d, hashes, nb/2)` draws every call are passed in."""
import torch

SHAPE = (2, 2, 32, 8)
HASHES, CHUNK, BEFORE, AFTER = 2, 8, 1, 0
ATTRS = {"reformer_form": "nys", "reformer_hashes": HASHES, "reformer_chunk": CHUNK, "reformer_chunks_before": BEFORE}
MASK_VALUE, SELF_MASK_VALUE = -1e9, -1e5  # float32 values of the reference
FIXTURE_MARGIN = True  # make(): redraw rotations until no bucket is nearly tied


def configure(settings):
    """Other settings (manifest keys), e.g. the paper's for bench/torch_attention_variants.py
    (which times the op, so any rotations do)."""
    global HASHES, CHUNK, BEFORE, FIXTURE_MARGIN
    HASHES, CHUNK, BEFORE = settings["reformer_hashes"], settings["reformer_chunk"], settings["reformer_chunks_before"]
    FIXTURE_MARGIN = False


def set_num_buckets(sequence_length, max_position_embeddings, chunk_length):
    num_buckets_pow_2 = (2 * (sequence_length // chunk_length)).bit_length() - 1
    num_buckets = 2 ** num_buckets_pow_2
    num_buckets_limit = 2 * max(int((max_position_embeddings // chunk_length) ** (0.5)), chunk_length)
    if num_buckets > num_buckets_limit:
        num_buckets = [2 ** (num_buckets_pow_2 // 2), 2 ** (num_buckets_pow_2 - num_buckets_pow_2 // 2)]
    return num_buckets


def rotation_size(num_buckets):
    return num_buckets if isinstance(num_buckets, int) else sum(num_buckets)


def make(gen, B, H, N, D):
    """Rotations drawn until no real token lies within 1e-3 of a bucket boundary, so
    float rounding (torch vs C) cannot flip a bucket. q is the generator's first draw
    (make_attention_fixtures.py), regenerated here to measure the margins."""
    nb = set_num_buckets(N, N, CHUNK)
    if not FIXTURE_MARGIN:
        return {}, {"rotations": torch.randn(H, D, HASHES, rotation_size(nb) // 2, generator=gen)}
    q = torch.randn(B, H, N, D, generator=torch.Generator().manual_seed(1234))
    mask = torch.ones(B, N)
    mask[1, N - 5:] = 0
    while True:
        rot = torch.randn(H, D, HASHES, rotation_size(nb) // 2, generator=gen)
        if min_hash_margin(q, mask, {"rotations": rot})[0] > 1e-3:
            return {}, {"rotations": rot}


def look_adjacent(vectors, num_chunks_before, num_chunks_after):
    if num_chunks_before == 0 and num_chunks_after == 0:
        return vectors
    slices = []
    for i in range(-num_chunks_before, num_chunks_after + 1):
        if i == 0:
            slices.append(vectors)
        else:
            slices.append(torch.cat([vectors[:, :, i:, ...], vectors[:, :, :i, ...]], dim=2))
    return torch.cat(slices, dim=3)


def split_seq_length_dim_to(vectors, dim_factor_1, dim_factor_2, H, D=None):
    B = vectors.shape[0]
    shape = (B, H, dim_factor_1, dim_factor_2)
    return torch.reshape(vectors, shape + (D,)) if vectors.dim() == 4 else torch.reshape(vectors, shape)


def hash_vectors(vectors, num_hashes, attention_mask, num_buckets_cfg, random_rotations):
    batch_size = vectors.shape[0]
    if isinstance(num_buckets_cfg, int):
        num_buckets = num_buckets_cfg
    else:
        num_buckets = 1
        for f in num_buckets_cfg:
            num_buckets *= f
    vectors = vectors.detach()
    rotated_vectors = torch.einsum("bmtd,mdhr->bmhtr", vectors, random_rotations)
    if isinstance(num_buckets_cfg, int) or len(num_buckets_cfg) == 1:
        rotated_vectors = torch.cat([rotated_vectors, -rotated_vectors], dim=-1)
        buckets = torch.argmax(rotated_vectors, dim=-1)
    else:
        buckets, cur_sum, cur_product = None, 0, 1
        for bucket_factor in num_buckets_cfg:
            rvf = rotated_vectors[..., cur_sum:cur_sum + (bucket_factor // 2)]
            cur_sum = cur_sum + bucket_factor // 2
            rvf = torch.cat([rvf, -rvf], dim=-1)
            if buckets is None:
                buckets = torch.argmax(rvf, dim=-1)
            else:
                buckets = buckets + (cur_product * torch.argmax(rvf, dim=-1))
            cur_product = cur_product * bucket_factor
    if attention_mask is not None and (attention_mask.sum().item() < batch_size * attention_mask.shape[-1]):
        num_buckets = num_buckets + 1
        buckets_mask = attention_mask.to(torch.bool)[:, None, None, :].expand(buckets.shape)
        buckets = torch.where(buckets_mask, buckets, torch.tensor(num_buckets - 1, dtype=torch.long))
    offsets = torch.arange(num_hashes)
    offsets = (offsets * num_buckets).view((1, 1, -1, 1))
    offsets = offsets.expand((batch_size, vectors.shape[1]) + offsets.shape[-2:])
    return (buckets + offsets).flatten(start_dim=2, end_dim=3)


def stable_argsort(vector, dim):
    scale_offset = torch.arange(vector.shape[dim]).view(1, 1, -1).expand(vector.shape)
    scaled_vector = vector.shape[dim] * vector + (scale_offset % vector.shape[dim])
    return torch.argsort(scaled_vector, dim=dim)


def len_and_dim_norm(vectors, D):
    variance = torch.mean(vectors ** 2, -1, keepdim=True)
    vectors = vectors * torch.rsqrt(variance + 1e-6)
    return vectors * torch.rsqrt(torch.tensor(D, dtype=vectors.dtype))


def gather_by_expansion(vectors, idxs, num_hashes, D):
    expanded_idxs = idxs.unsqueeze(-1).expand(-1, -1, -1, D)
    return torch.gather(vectors.repeat(1, 1, num_hashes, 1), 2, expanded_idxs)


def forward(q, k, v, mask, params, draws):
    B, H, N, D = q.shape
    query_key_vectors, value_vectors = q, v  # shared QK: W_k never used
    standard = N <= CHUNK
    if not standard:
        buckets = hash_vectors(query_key_vectors, HASHES, mask, set_num_buckets(N, N, CHUNK), draws["rotations"])
        with torch.no_grad():
            sorted_bucket_idx = stable_argsort(buckets, dim=-1)
            indices = torch.arange(sorted_bucket_idx.shape[-1]).view(1, 1, -1).expand(sorted_bucket_idx.shape)
            undo_sorted_bucket_idx = sorted_bucket_idx.new(*sorted_bucket_idx.size())
            undo_sorted_bucket_idx.scatter_(-1, sorted_bucket_idx, indices)
        per_hash = sorted_bucket_idx % N
        query_key_vectors = gather_by_expansion(query_key_vectors, per_hash, HASHES, D)
        value_vectors = gather_by_expansion(value_vectors, per_hash, HASHES, D)
        query_key_vectors = split_seq_length_dim_to(query_key_vectors, -1, CHUNK, H, D)
        value_vectors = split_seq_length_dim_to(value_vectors, -1, CHUNK, H, D)
    else:
        per_hash = torch.arange(N).repeat(B, H, 1)
    key_vectors = len_and_dim_norm(query_key_vectors, D)
    query_vectors = query_key_vectors
    # _attend
    if not standard:
        key_vectors = look_adjacent(key_vectors, BEFORE, AFTER)
        value_vectors = look_adjacent(value_vectors, BEFORE, AFTER)
    dots = torch.matmul(query_vectors, key_vectors.transpose(-1, -2))
    if not standard:
        query_bucket_idx = split_seq_length_dim_to(per_hash, -1, CHUNK, H)
        key_value_bucket_idx = look_adjacent(query_bucket_idx, BEFORE, AFTER)
    else:
        query_bucket_idx = key_value_bucket_idx = per_hash
    # _compute_attn_mask (keys only)
    am = mask.to(torch.uint8)[:, None, :]
    if not standard:
        am = am[:, None, :]
        am = am.expand(query_bucket_idx.shape[:-1] + (-1,))
        am = torch.gather(am, -1, key_value_bucket_idx)
    am = am.unsqueeze(-2).expand(dots.shape)
    dots = torch.where(am.bool(), dots, torch.tensor(MASK_VALUE, dtype=dots.dtype))
    self_mask = torch.ne(query_bucket_idx.unsqueeze(-1), key_value_bucket_idx.unsqueeze(-2))
    dots = torch.where(self_mask, dots, torch.tensor(SELF_MASK_VALUE, dtype=dots.dtype))
    logits = torch.logsumexp(dots, dim=-1, keepdim=True)
    probs = torch.exp(dots - logits)
    out = torch.matmul(probs, value_vectors)
    if out.dim() > 4:
        logits = logits.flatten(start_dim=2, end_dim=3).squeeze(-1)
        out = out.flatten(start_dim=2, end_dim=3)
    if not standard:
        # ReverseSort
        out = torch.gather(out, 2, undo_sorted_bucket_idx.unsqueeze(-1).expand(out.shape))
        logits = torch.gather(logits, 2, undo_sorted_bucket_idx)
        if HASHES > 1:
            out = split_seq_length_dim_to(out, HASHES, N, H, D)
            logits = split_seq_length_dim_to(logits, HASHES, N, H, D).unsqueeze(-1)
            probs_vectors = torch.exp(logits - torch.logsumexp(logits, dim=2, keepdim=True))
            out = torch.sum(out * probs_vectors, dim=2)
    return out


def min_hash_margin(q, mask, draws):
    """Smallest gap between the best and second-best rotated value of a real token
    (per factor of a factorised bucket count, each factor its own argmax):
    the fixture is only meaningful if float rounding cannot flip a bucket."""
    nb = set_num_buckets(q.shape[2], q.shape[2], CHUNK)
    rv_all = torch.einsum("bmtd,mdhr->bmhtr", q, draws["rotations"])
    gaps, cur_sum = [], 0
    for bucket_factor in ([nb] if isinstance(nb, int) else nb):
        rv = rv_all[..., cur_sum:cur_sum + bucket_factor // 2]
        cur_sum = cur_sum + bucket_factor // 2
        rv = torch.cat([rv, -rv], dim=-1)
        top = torch.topk(rv, 2, dim=-1).values
        gaps.append(top[..., 0] - top[..., 1])
    gap = torch.stack(gaps, dim=-1).amin(dim=-1)
    real = mask.bool()[:, None, None, :].expand(gap.shape)
    return gap[real].min().item(), nb
