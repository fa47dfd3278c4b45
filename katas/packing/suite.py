"""Hidden suite for packing: bin packing, packed collation, unpad/pad, varlen attention.

All pure functions: plain lists and small tensors cross to the worker; the expected values come
from the reference (exact bins, collated fields, unpad) or from an independent per-sample
attention computed here (varlen attention must equal attending to each sample on its own)."""
import math
import random

import torch
from hypothesis import strategies as st

from checker.suite import expect, fail, prop
from katas._shared.numeric import check_close, check_dtype

seeds = st.integers(0, 2**31 - 1)


# ---- bin packing ------------------------------------------------------------------------------
@st.composite
def packing_cases(draw, max_n=24):
    capacity = draw(st.integers(1, 32))
    # Narrow ranges give ties and exact fits; wide and small ranges give the mixes where next-fit,
    # first-fit and first-fit decreasing part ways (a small item fitting an earlier bin).
    mode = draw(st.sampled_from(["wide", "small", "narrow"]))
    if mode == "wide":
        lo, hi = 1, capacity
    elif mode == "small":
        lo, hi = 1, max(1, capacity // 2)
    else:
        lo = draw(st.integers(1, capacity))
        hi = min(capacity, lo + 2)
    lengths = draw(st.lists(st.integers(lo, hi), max_size=max_n))
    return lengths, capacity


def _bins(k, fn, lengths, capacity):
    out = k.invoke(fn, list(lengths), capacity, return_args=True)
    bins = out.value
    expect(isinstance(bins, list) and all(isinstance(b, list) for b in bins),
           f"{fn} must return a list of lists of sample indices", got=bins)
    return bins, out


def _canonical(bins):
    # Bins in the order they were opened; the order of indices inside a bin is free.
    return [sorted(b) for b in bins]


@prop(weight=2, given={"case": packing_cases()}, examples=20)
def bins_partition(k, case):
    """Both packers: every sample in exactly one non-empty bin, each bin's lengths sum ≤ capacity."""
    lengths, capacity = case
    for fn in ("pack_greedy", "pack_ffd"):
        bins, _ = _bins(k, fn, lengths, capacity)
        flat = sorted(i for b in bins for i in b)
        expect(flat == list(range(len(lengths))), f"{fn}: each sample index must appear in exactly one bin",
               expected=list(range(len(lengths))), got=flat)
        for b in bins:
            expect(len(b) > 0, f"{fn}: no bin may be empty", got=bins)
            total = sum(lengths[i] for i in b)
            expect(total <= capacity, f"{fn}: a bin's lengths must sum to at most the capacity",
                   expected=f"≤ {capacity}", got=f"bin {b} holds {total}")


def _same_bins_as_reference(k, fn, case, rule):
    """fn's bins are the reference's: the same bins in the same order, indices in a bin in any order."""
    lengths, capacity = case
    bins, _ = _bins(k, fn, lengths, capacity)
    expected = _canonical(getattr(k.ref, fn)(list(lengths), capacity))
    expect(_canonical(bins) == expected, rule, expected=expected, got=bins)


@prop(weight=2, given={"case": packing_cases()}, examples=25)
def greedy_exact(k, case):
    """pack_greedy is next-fit in input order: exactly the expected bins."""
    _same_bins_as_reference(k, "pack_greedy", case, "next-fit: a sample that does not fit the current "
                            "bin closes it (earlier bins are never reopened)")


@prop(weight=2, given={"case": packing_cases()}, examples=25)
def ffd_exact(k, case):
    """pack_ffd is first-fit decreasing (ties by lower index): exactly the expected bins."""
    _same_bins_as_reference(k, "pack_ffd", case, "first-fit decreasing: longest first (ties: lower "
                            "index first), each into the first bin with room; bins in the order opened")


@prop(weight=1, given={"case": packing_cases()}, examples=15)
def ffd_not_worse(k, case):
    """First-fit decreasing never uses more bins than next-fit."""
    lengths, capacity = case
    ffd, _ = _bins(k, "pack_ffd", lengths, capacity)
    greedy = k.ref.pack_greedy(list(lengths), capacity)
    expect(len(ffd) <= len(greedy), "pack_ffd must not use more bins than next-fit",
           expected=f"≤ {len(greedy)} bins", got=f"{len(ffd)} bins")


@st.composite
def impossible_cases(draw):
    capacity = draw(st.integers(-3, 16))
    lengths = draw(st.lists(st.integers(1, max(capacity, 1)), max_size=6))
    if capacity > 0:
        bad = draw(st.sampled_from([0, -1, -7, capacity + 1, capacity + 9]))
        lengths.insert(draw(st.integers(0, len(lengths))), bad)
    return lengths, capacity


@prop(weight=1, given={"case": impossible_cases()}, examples=10)
def rejects_impossible(k, case):
    """ValueError for a length ≤ 0, a length > capacity, or capacity ≤ 0 (both packers)."""
    lengths, capacity = case
    for fn in ("pack_greedy", "pack_ffd"):
        with k.raises("ValueError", f"{fn}({lengths}, {capacity}) must raise ValueError"):
            k.invoke(fn, list(lengths), capacity)


# ---- collation --------------------------------------------------------------------------------
@st.composite
def collate_cases(draw):
    capacity = draw(st.integers(1, 16))
    lengths = draw(st.lists(st.integers(1, capacity), max_size=10))
    rng = random.Random(draw(seeds))
    vocab = draw(st.sampled_from([3, 1000]))   # a tiny vocabulary makes tokens equal to pad_id
    samples = [[rng.randrange(vocab) for _ in range(n)] for n in lengths]
    # Any valid bins, not only a packer's: next-fit over a shuffled order (bins hold samples out
    # of input order, so cu_seqlens must follow the bins, not the sample list).
    order = list(range(len(lengths)))
    if draw(st.booleans()):
        rng.shuffle(order)
    bins, cur, used = [], [], 0
    for i in order:
        if cur and (used + lengths[i] > capacity or rng.random() < 0.2):
            bins.append(cur)
            cur, used = [], 0
        cur.append(i)
        used += lengths[i]
    if cur:
        bins.append(cur)
    pad_id = draw(st.sampled_from([0, 1, 2, 50256]))
    return samples, bins, capacity, pad_id


FIELDS = ("input_ids", "attention_mask", "position_ids", "labels", "cu_seqlens", "max_seqlen")

RULES = {
    "input_ids": "input_ids: each row holds its bin's samples concatenated in bin order, then pad_id",
    "attention_mask": "attention_mask: 1 on every sample token, 0 on padding (tokens may equal pad_id)",
    "position_ids": "position_ids: restart at 0 at each sample, 0 on padding",
    "labels": "labels: = input_ids, but -100 on each sample's first token and on padding",
    "cu_seqlens": "cu_seqlens: 0, then the cumulative sample lengths in row-major order of the rows",
    "max_seqlen": "max_seqlen: the longest sample's length, as a Python int",
}


def _collate(k, case):
    samples, bins, capacity, pad_id = case
    out = k.invoke("collate_packed", [list(s) for s in samples], [list(b) for b in bins], capacity,
                   pad_id=pad_id, return_args=True)
    got = out.value
    expect(isinstance(got, dict), "collate_packed must return a dict", got=type(got).__name__)
    missing = [f for f in FIELDS if f not in got]
    expect(not missing, "collate_packed must return all six fields", expected=list(FIELDS),
           got=sorted(got))
    return got, out


@prop(weight=4, given={"case": collate_cases()}, examples=25)
def collate_fields(k, case):
    """Tokens, attention mask, positions, labels, cu_seqlens and max_seqlen of a packed batch."""
    samples, bins, capacity, pad_id = case
    got, _ = _collate(k, case)
    exp = k.ref.collate_packed(samples, bins, capacity, pad_id)
    for f in FIELDS:
        g, e = got[f], exp[f]
        if f == "max_seqlen":
            expect(g == e, RULES[f], expected=e, got=g)
            continue
        expect(isinstance(g, torch.Tensor), f"{f} must be a torch.Tensor", got=type(g).__name__)
        expect(tuple(g.shape) == tuple(e.shape), f"{f} has the wrong shape", expected=tuple(e.shape),
               got=tuple(g.shape))
        expect(torch.equal(g.long(), e.long()), RULES[f], expected=e.tolist(), got=g.tolist())


# ---- unpad / pad ------------------------------------------------------------------------------
# Strategies draw small plain-data recipes and the properties build the tensors: the recipe is
# what a failure report shows as the input (short, and it shrinks), and rendering a tensor for
# every example would cost more than running it.
@st.composite
def unpad_cases(draw):
    return {"B": draw(st.integers(1, 4)), "L": draw(st.integers(1, 8)),
            "feature": draw(st.sampled_from([(), (3,), (2, 3)])), "seed": draw(seeds),
            "mask": draw(st.sampled_from(["right", "left", "holes"])), "bool_mask": draw(st.booleans()),
            "dtype": draw(st.sampled_from(["float32", "float64"]))}


def build_unpad(case):
    B, L = case["B"], case["L"]
    g = torch.Generator().manual_seed(case["seed"])
    if case["mask"] == "holes":
        mask = torch.rand(B, L, generator=g) < 0.6
    else:
        lens = torch.randint(0, L + 1, (B,), generator=g)
        mask = torch.arange(L)[None, :] < lens[:, None]
        if case["mask"] == "left":
            mask = mask.flip(1)
    mask = mask if case["bool_mask"] else mask.long()
    hidden = torch.randn(B, L, *case["feature"], generator=g, dtype=torch.float64)
    return hidden.to(getattr(torch, case["dtype"])), mask


@prop(weight=2, given={"case": unpad_cases()}, examples=20)
def unpad_matches_reference(k, case):
    """unpad_input returns flash-attn's 4 values: tokens, row-major indices, cu_seqlens, max_seqlen."""
    hidden, mask = build_unpad(case)
    got = k.attempt.unpad_input(hidden.clone(), mask.clone())
    expect(isinstance(got, (tuple, list)) and len(got) == 4,
           "unpad_input returns 4 values: (unpadded, indices, cu_seqlens, max_seqlen)",
           got=f"{type(got).__name__} of {len(got) if isinstance(got, (tuple, list)) else '?'}")
    exp = k.ref.unpad_input(hidden, mask)
    names = ("unpadded", "indices", "cu_seqlens")
    for name, g, e in zip(names, got[:3], exp[:3]):
        expect(isinstance(g, torch.Tensor), f"{name} must be a tensor", got=type(g).__name__)
        expect(tuple(g.shape) == tuple(e.shape), f"{name} has the wrong shape", expected=tuple(e.shape),
               got=tuple(g.shape))
        expect(torch.equal(g.to(e.dtype), e), f"{name} differs (row-major order of the mask's 1s)",
               expected=e.tolist(), got=g.tolist())
    expect(got[3] == exp[3], "max_seqlen: the most tokens in any row", expected=exp[3], got=got[3])


@prop(weight=2, given={"case": unpad_cases()}, examples=15)
def pad_round_trip(k, case):
    """pad_input(unpad_input(h)) gives h on the tokens and zeros elsewhere."""
    hidden, mask = build_unpad(case)
    B, L = mask.shape
    unpadded, indices, _, _ = k.ref.unpad_input(hidden, mask)
    got = k.attempt.pad_input(unpadded, indices, B, L)
    expected = hidden * mask.reshape(B, L, *([1] * (hidden.dim() - 2))).to(hidden.dtype)
    expect(isinstance(got, torch.Tensor), "pad_input must return a tensor", got=type(got).__name__)
    # Pure data movement: exact.
    check_close(got, expected, rtol=0, atol=0, what="pad_input(unpad_input(h))")
    check_dtype(got, hidden.dtype, "pad_input's result")
    # And through the attempt's own unpad_input.
    u, idx, _, _ = k.attempt.unpad_input(hidden, mask)
    again = k.attempt.pad_input(u, idx, B, L)
    check_close(again, expected, rtol=0, atol=0, what="pad_input(*unpad_input(h)[:2], B, L)")


# ---- varlen attention -------------------------------------------------------------------------
@st.composite
def attention_cases(draw, causal=None):
    lens = draw(st.lists(st.integers(0, 6), min_size=1, max_size=5))
    if sum(lens) == 0:
        lens[0] = 1
    return {"lens": lens, "heads": draw(st.integers(1, 3)), "d": draw(st.integers(1, 8)),
            "seed": draw(seeds), "causal": draw(st.booleans()) if causal is None else causal}


def build_attention(case):
    g = torch.Generator().manual_seed(case["seed"])
    T = sum(case["lens"])
    q, k, v = (torch.randn(T, case["heads"], case["d"], generator=g) for _ in range(3))
    cu = torch.tensor([0] + [sum(case["lens"][:i + 1]) for i in range(len(case["lens"]))], dtype=torch.int32)
    return q, k, v, cu, case["causal"]


def per_sample_attention(q, k, v, cu, causal):
    """Each sample on its own, in float64: softmax(q kᵀ / sqrt(d)) v, keys after the query
    dropped when causal (weights normalised by hand, not by the reference's code)."""
    q, k, v = q.double(), k.double(), v.double()
    out = torch.zeros_like(q)
    b = cu.tolist()
    for s, e in zip(b, b[1:]):
        n = e - s
        if n == 0:
            continue
        scores = q[s:e].transpose(0, 1) @ k[s:e].permute(1, 2, 0) / math.sqrt(q.shape[-1])  # (H, n, n)
        allowed = torch.ones(n, n).tril() if causal else torch.ones(n, n)
        w = torch.exp(scores - scores.max(-1, keepdim=True).values) * allowed
        w = w / w.sum(-1, keepdim=True)
        out[s:e] = (w @ v[s:e].transpose(0, 1)).transpose(0, 1)
    return out


# float32 inputs: dot products of ≤ 8 terms and softmax over ≤ 6 keys, each ~1e-7 relative;
# 1e-4 (rtol) / 1e-5 (atol) leaves room for any summation order or a masked full-matrix form,
# and any leak across samples or wrong scale moves outputs by ~1e-1.
ATT_RTOL, ATT_ATOL = 1e-4, 1e-5


def _attention(k, case):
    q, k_, v, cu, causal = build_attention(case)
    got = k.attempt.varlen_attention(q, k_, v, cu, causal=causal)
    expect(isinstance(got, torch.Tensor), "varlen_attention must return a tensor", got=type(got).__name__)
    expected = per_sample_attention(q, k_, v, cu, causal)
    what = f"varlen_attention(causal={causal}) vs attending to each sample separately"
    check_close(got, expected, rtol=ATT_RTOL, atol=ATT_ATOL, what=what)
    check_dtype(got, q.dtype, "varlen_attention's result")


@prop(weight=3, given={"case": attention_cases(causal=False)}, examples=15)
def varlen_no_cross_talk(k, case):
    """Non-causal: each sample attends to all of its own tokens and none of another sample's."""
    _attention(k, case)


@prop(weight=2, given={"case": attention_cases(causal=True)}, examples=15)
def varlen_causal(k, case):
    """Causal: a token attends to its own sample's tokens up to itself."""
    _attention(k, case)


# ---- dtypes and inputs ------------------------------------------------------------------------
@prop(weight=1, given={"case": collate_cases(), "un": unpad_cases()}, examples=8)
def dtypes(k, case, un):
    """int64 fields, int32 cu_seqlens, Python-int max_seqlen (collate and unpad), int64 indices."""
    got, _ = _collate(k, case)
    for f in ("input_ids", "attention_mask", "position_ids", "labels"):
        check_dtype(got[f], torch.int64, f)
    check_dtype(got["cu_seqlens"], torch.int32, "collate_packed's cu_seqlens")
    expect(type(got["max_seqlen"]) is int, "collate_packed's max_seqlen must be a Python int",
           expected="int", got=type(got["max_seqlen"]).__name__)
    hidden, mask = build_unpad(un)
    u, idx, cu, m = k.attempt.unpad_input(hidden, mask)
    check_dtype(u, hidden.dtype, "unpad_input's unpadded")
    check_dtype(idx, torch.int64, "unpad_input's indices")
    check_dtype(cu, torch.int32, "unpad_input's cu_seqlens")
    expect(type(m) is int, "unpad_input's max_seqlen must be a Python int", expected="int",
           got=type(m).__name__)


@prop(weight=1, given={"case": packing_cases(), "col": collate_cases(), "un": unpad_cases(),
                       "att": attention_cases()}, examples=8)
def inputs_unchanged(k, case, col, un, att):
    """No function modifies its arguments (lengths, samples, bins, tensors)."""
    lengths, capacity = case
    for fn in ("pack_greedy", "pack_ffd"):
        _, out = _bins(k, fn, lengths, capacity)
        expect(out.args[0] == lengths, f"{fn} must not modify lengths", expected=lengths, got=out.args[0])
    samples, bins, capacity, pad_id = col
    _, out = _collate(k, col)
    expect(out.args[0] == samples, "collate_packed must not modify samples", expected=samples, got=out.args[0])
    expect(out.args[1] == bins, "collate_packed must not modify bins", expected=bins, got=out.args[1])
    hidden, mask = build_unpad(un)
    out = k.invoke("unpad_input", hidden, mask, return_args=True)
    expect(torch.equal(out.args[0], hidden) and torch.equal(out.args[1], mask),
           "unpad_input must not modify hidden or attention_mask")
    u, idx, _, _ = k.ref.unpad_input(hidden, mask)
    out = k.invoke("pad_input", u, idx, *mask.shape, return_args=True)
    expect(torch.equal(out.args[0], u) and torch.equal(out.args[1], idx), "pad_input must not modify its inputs")
    q, k_, v, cu, causal = build_attention(att)
    out = k.invoke("varlen_attention", q, k_, v, cu, causal=causal, return_args=True)
    same = all(torch.equal(a, b) for a, b in zip(out.args, (q, k_, v, cu)))
    expect(same, "varlen_attention must not modify q, k, v or cu_seqlens")
