"""Hidden suite for online_softmax: runs in the checker, calls the attempt through the worker.

Expected values come from the definition, computed here in float64 from the whole input at once
(math.fsum for the sums), never from the reference's blockwise code: any correct way of getting
the statistics passes.
"""
from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from checker.suite import expect, fail
from checker.suite import prop
from katas._shared.numeric import check_close, check_dtype

NEG_INF = -math.inf

# ---- tolerances -----------------------------------------------------------------------------
# softmax_stats / merge_stats work in float64 on ≤ 100 values in ≤ 12 chunks: every exp costs
# ≤ 2 ulp and every add or rescale ≤ 1 ulp, so d is within ~50 ulp (1e-14); 1e-11 leaves room
# and is still 10^4 times tighter than a float32 slip (1e-7).
STATS_RTOL = 1e-11
# Values near ±10^4: x − m of two such doubles is off by up to 10^4·2^-53 ≈ 1e-12 before exp.
HUGE_STATS_RTOL = 1e-9
# online_softmax, float64: rows ≤ 64 long, exp ≤ 2 ulp, d summed over ≤ 64 terms and rescaled once
# per block: ≤ ~200 ulp ≈ 4e-14 relative. Outputs ≤ 1e-300 may flush, hence a tiny atol.
F64 = dict(rtol=1e-11, atol=1e-15)
# online_softmax, float32 computed in float32: x − m rounds to ½ ulp, which exp turns into a
# relative error |x − m|·6e-8 (≤ 1e-6 where y > 1e-7), d adds ≤ 64·6e-8 ≈ 4e-6, and the rescales
# ~1e-6: ≤ ~6e-6 relative, so 2e-5. atol: the absolute error t·e^-t·6e-8 of a tiny y is ≤ 2.2e-8.
F32 = dict(rtol=2e-5, atol=1e-7)


def tol(dtype):
    return F64 if np.dtype(dtype) == np.float64 else F32


# ---- the definition -------------------------------------------------------------------------
def direct_stats(values):
    """(max, Σ exp(x − max)) of all values, exactly summed; (−inf, 0.0) when nothing is finite."""
    vals = [float(v) for v in values]
    m = max(vals, default=NEG_INF)
    if m == NEG_INF:
        return (NEG_INF, 0.0)
    return (m, math.fsum(math.exp(v - m) for v in vals))


def direct_softmax(x):
    """Softmax over the last axis in float64, all −inf rows → 0."""
    x64 = np.asarray(x, dtype=np.float64)
    m = x64.max(axis=-1, keepdims=True)
    shift = np.where(m == NEG_INF, 0.0, m)
    e = np.exp(x64 - shift)
    d = e.sum(axis=-1, keepdims=True)
    return np.divide(e, d, out=np.zeros_like(e), where=d > 0)


def as_stats(value, what="softmax_stats"):
    """The attempt's (m, d) as two Python floats, or a failure saying what came back instead."""
    try:
        m, d = value
        return float(np.asarray(m)), float(np.asarray(d))
    except (TypeError, ValueError):
        fail(f"{what} must return a pair (m, d) of floats", expected="(m, d)", got=value)


def check_stats(got, expected, rtol, what):
    m, d = got
    em, ed = expected
    if math.isnan(m) or math.isnan(d):
        fail(f"{what} returned NaN", expected=expected, got=got)
    if em == NEG_INF:
        expect(m == NEG_INF and d == 0.0,
               f"{what}: nothing finite in it, so the stats must be the identity (-inf, 0.0)",
               expected=expected, got=got)
        return
    expect(m == em, f"{what}: m must be the largest value", expected=em, got=m)
    expect(abs(d - ed) <= rtol * ed,
           f"{what}: d must be Σ exp(x − m) over every value (rtol {rtol:g})", expected=ed, got=d)


# ---- strategies -----------------------------------------------------------------------------
# Hypothesis draws a small recipe (sizes, a regime, a seed) and numpy fills in the values: drawing
# floats one by one costs ~20 ms an example, this ~5 ms, and sizes still shrink. Values are rounded
# to 2 decimals so a counterexample reads well.
REGIMES = ("plain", "some_neg_inf", "mostly_neg_inf", "huge")


def fill(rng, shape, regime):
    """float64 values of `shape` for a regime: N(0, 8²); with −inf at 15% or 70% of the places; or
    around ±10^4 with spreads of up to thousands (exp of any of them overflows)."""
    if regime == "huge":
        centre = rng.choice([-1e4, 1e4, 3e4, -7e3])
        spread = rng.choice([0.5, 30.0, 3000.0])
        x = np.round(centre + spread * rng.uniform(-1, 1, shape), 2)
        share = 0.1
    else:
        x = np.round(rng.standard_normal(shape) * 8.0, 2)
        share = {"plain": 0.0, "some_neg_inf": 0.15, "mostly_neg_inf": 0.7}[regime]
    if share:
        x[rng.random(shape) < share] = NEG_INF
    return x


def seeds():
    return st.integers(0, 2**32 - 1)


@st.composite
def chunk_lists(draw, regimes=REGIMES, max_chunks=12, max_len=9, min_chunks=0):
    """A stream cut into chunks (any chunk may be empty), as a list of float64 arrays."""
    lens = draw(st.lists(st.integers(0, max_len), min_size=min_chunks, max_size=max_chunks))
    regime = draw(st.sampled_from(regimes))
    rng = np.random.default_rng(draw(seeds()))
    return [fill(rng, n, regime) for n in lens]


@st.composite
def stream_cases(draw, regimes=REGIMES, max_chunks=12):
    chunks = draw(chunk_lists(regimes, max_chunks=max_chunks))
    return chunks, draw(st.sampled_from(["iterator", "generator", "list", "tuple"]))


def run_stats(k, chunks, kind, what="softmax_stats"):
    out = k.harness("stats", chunks, kind).value
    return as_stats(out["value"], what), out


def flat(chunks):
    return [float(v) for c in chunks for v in c]


def stats_rtol(values_):
    return HUGE_STATS_RTOL if any(abs(v) > 1000 for v in values_ if v != NEG_INF) else STATS_RTOL


# ---- softmax_stats --------------------------------------------------------------------------
@prop(weight=3, given={"case": stream_cases(regimes=("plain", "some_neg_inf"))}, examples=25)
def stats_formula(k, case):
    """softmax_stats gives (max, Σ exp(x − max)) for any chunking, empty chunks included."""
    chunks, kind = case
    got, _ = run_stats(k, chunks, kind)
    check_stats(got, direct_stats(flat(chunks)), STATS_RTOL,
                f"softmax_stats over {len(chunks)} chunks (passed as a {kind})")


@prop(weight=2, given={"case": stream_cases(regimes=("mostly_neg_inf",))}, examples=15)
def stats_neg_inf(k, case):
    """−inf entries, all −inf chunks and the empty stream: no NaN, and (−inf, 0.0) when nothing is finite."""
    chunks, kind = case
    got, _ = run_stats(k, chunks, kind)
    check_stats(got, direct_stats(flat(chunks)), STATS_RTOL,
                f"softmax_stats over {len(chunks)} chunks with −inf values")


@prop(weight=1, given={"case": stream_cases(regimes=("huge",), max_chunks=8)}, examples=10)
def stats_huge(k, case):
    """Values around ±10^4 with spreads of thousands: no overflow, no NaN."""
    chunks, kind = case
    got, _ = run_stats(k, chunks, kind)
    check_stats(got, direct_stats(flat(chunks)), HUGE_STATS_RTOL,
                "softmax_stats on values of magnitude 10^4")


@prop(weight=2, given={"chunks": chunk_lists(("plain", "some_neg_inf"), max_chunks=10, min_chunks=2)},
      examples=10)
def single_pass(k, chunks):
    """The stream is read once, to its end, and never again (it cannot be rewound)."""
    out = k.harness("stats", chunks, "iterator").value
    expect(out["delivered"] == len(chunks), "softmax_stats must read the whole stream",
           expected=f"{len(chunks)} chunks read", got=f"{out['delivered']} chunks read")
    expect(out["reads_after_end"] == 0,
           "the stream can be consumed only once: after it ended, softmax_stats tried to read it "
           "again (a second pass). Keep a running (m, d) and rescale d when m grows.",
           expected="no read after the end", got=f"{out['reads_after_end']} read(s) after the end")
    check_stats(as_stats(out["value"]), direct_stats(flat(chunks)), STATS_RTOL,
                "softmax_stats over a one-shot iterator")


def _stream_values(n_chunks, chunk_len, seed):
    """The same values the harness's long_stream generates (same numpy, same seed)."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(chunk_len) * 4.0 for _ in range(n_chunks)]


def _numpy_stats(chunks):
    """(max, Σ exp(x − max)) by numpy, for streams too long for direct_stats' exact Python sum:
    pairwise summation of ≤ 4·10^6 terms errs by ~1e-15 relative, far inside check tolerances."""
    x = np.concatenate(chunks)
    m = float(x.max())
    return (m, float(np.exp(x - m).sum()))


@prop(weight=2)
def stream_memory(k):
    """Memory does not grow with the stream: 2000 chunks need no more than 30, and no chunk is kept (any library)."""
    peaks = {}
    for n_chunks, seed in ((30, 5), (2000, 6)):
        out = k.harness("long_stream", n_chunks, 32, seed, timeout=20).value
        expected = direct_stats(np.concatenate(_stream_values(n_chunks, 32, seed)))
        # 2000 rescales of d, each ≤ 2 ulp: ≤ 1e-12 relative.
        check_stats(as_stats(out["value"]), expected, 1e-10, f"softmax_stats over {n_chunks} chunks")
        peaks[n_chunks] = out["peak"]
    grown = peaks[2000] - peaks[30]
    # Many small chunks are the worst case for state kept per chunk: even one float64 per chunk
    # in a numpy array is 16 KB at 2000 chunks (a list of Python floats ~64 KB, (m, d) pairs more).
    # A right attempt keeps O(1) state, so its peak does not depend on the count (measured: the
    # reference's differs by < 1 KiB); 6 KiB is noise room.
    expect(grown <= 6 * 1024,
           "memory must not grow with the number of chunks: do not keep chunks (or per-chunk "
           "results) — fold each one into the running (m, d) and let it go",
           expected="≤ 6 KiB more for 2000 chunks than for 30",
           got=f"{peaks[30] / 1024:.1f} KiB for 30 chunks, {peaks[2000] / 1024:.1f} KiB for 2000")
    # Big chunks are the worst case for chunks kept whole, and the resident-memory meter sees them
    # in any library (a torch tensor or a C buffer is invisible to Python's allocator): 200
    # chunks of 8192 values are 13 MB, one chunk 64 KB.
    n_chunks, chunk_len, seed = 200, 8192, 7
    out = k.harness("long_stream", n_chunks, chunk_len, seed, "resident", timeout=20).value
    check_stats(as_stats(out["value"]), _numpy_stats(_stream_values(n_chunks, chunk_len, seed)), 1e-10,
                f"softmax_stats over {n_chunks} chunks of {chunk_len} values")
    # The meter's resolution is a page plus allocator slack, and a first call may leave ~0.3 MiB
    # of lazily built state: 4 MiB is that, a few chunks of temporaries, and nothing like the
    # 13 MB of a kept stream (right attempts measure ≤ 0.5 MiB).
    expect(out["peak"] <= 4 * 2**20,
           "memory must not grow with the stream: no chunk may be kept, in any library (numpy, "
           "torch, Python lists)",
           expected=f"≤ 4 MiB at peak (the stream is {n_chunks * chunk_len * 8 / 2**20:.0f} MiB)",
           got=f"{out['peak'] / 2**20:.1f} MiB at peak over {n_chunks} chunks of {chunk_len} values")


# ---- merge_stats ----------------------------------------------------------------------------
@st.composite
def part_lists(draw):
    """A set of values split into 2–7 parts (some empty or all −inf), and a merge order."""
    parts = draw(chunk_lists(("plain", "mostly_neg_inf", "huge"), max_chunks=7, max_len=5, min_chunks=2))
    plan = draw(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)),
                         min_size=len(parts) - 1, max_size=len(parts) - 1))
    return parts, plan


def _check_merge_results(results, what):
    for r in results:
        m, d = as_stats(r, "merge_stats")
        if math.isnan(m) or math.isnan(d):
            fail(f"merge_stats returned NaN ({what})", expected="no NaN", got=r)


@prop(weight=3, given={"case": part_lists()}, examples=30)
def merge_any_order(k, case):
    """Merging the stats of the parts, in any order and grouping, gives the stats of the whole."""
    parts, plan = case
    leaves = [direct_stats(p) for p in parts]
    out = k.harness("merge_plan", leaves, plan).value
    _check_merge_results(out["steps"], "while merging parts")
    whole = flat(parts)
    check_stats(as_stats(out["final"], "merge_stats"), direct_stats(whole), stats_rtol(whole),
                f"merge_stats over the parts {leaves}, merged in the order {plan}")


@st.composite
def some_stats(draw):
    chunk = draw(chunk_lists(("plain", "huge"), max_chunks=1, max_len=5, min_chunks=1))[0]
    return direct_stats(chunk)


IDENTITY = (NEG_INF, 0.0)


@prop(weight=2, given={"a": some_stats()}, examples=10)
def merge_identity(k, a):
    """(−inf, 0.0) is the identity on either side, and merging two identities gives it without NaN."""
    pairs = [(a, IDENTITY), (IDENTITY, a), (IDENTITY, IDENTITY)]
    got = k.harness("merge_pairs", pairs).value
    _check_merge_results(got, "merging with the identity (-inf, 0.0)")
    for (x, y), r in zip(pairs, got):
        # Merging with the identity only multiplies d by exp(0) = 1 (or adds 0): exact.
        check_stats(as_stats(r, "merge_stats"), a if x != y else IDENTITY, 1e-15,
                    f"merge_stats({x}, {y})")


# ---- online_softmax -------------------------------------------------------------------------
def block_choices(n):
    """Block sizes: 1, smaller than the row (dividing it or not), equal, larger, or the default."""
    return [1, max(1, n // 2), max(1, n // 3 + 1), max(1, n - 1), n, n + 1, 2 * n + 3, 5, None]


@st.composite
def softmax_cases(draw, regimes=("plain", "some_neg_inf"), dtypes=("float64", "float32"),
                  max_rank=3, max_len=24):
    dtype = draw(st.sampled_from(dtypes))
    rank = draw(st.integers(1, max_rank))
    lead = draw(st.lists(st.integers(1, 4), min_size=rank - 1, max_size=rank - 1))
    n = draw(st.integers(1, max_len))
    regime = draw(st.sampled_from(regimes))
    x = fill(np.random.default_rng(draw(seeds())), tuple(lead) + (n,), regime)
    if regime == "mostly_neg_inf" and x.ndim > 1 and draw(st.booleans()):
        x[(0,) * (x.ndim - 1)] = NEG_INF  # make sure an all −inf row shows up
    return x.astype(dtype), draw(st.sampled_from(block_choices(n)))


def run_softmax(k, x, block, **kw):
    args = (x,) if block is None else (x, block)
    return k.invoke("online_softmax", *args, **kw)


def check_softmax(k, x, block, tolerance=None, what=None):
    out = run_softmax(k, x, block)
    got = out.value
    if not hasattr(got, "dtype"):
        fail("online_softmax must return a numpy array", expected="np.ndarray", got=got)
    label = what or f"online_softmax(x of shape {x.shape}, {x.dtype}, block={block or 'default'})"
    check_close(got, direct_softmax(x), **(tolerance or tol(x.dtype)), what=label)
    return out


@prop(weight=4, given={"case": softmax_cases()}, examples=30)
def softmax_values(k, case):
    """Softmax over the last axis, for any rank and block size (1, smaller, equal, larger, ragged)."""
    x, block = case
    check_softmax(k, x, block)


@prop(weight=2, given={"case": softmax_cases(regimes=("mostly_neg_inf",), max_len=16)}, examples=15)
def softmax_neg_inf(k, case):
    """−inf entries and all −inf blocks or rows: an all −inf row gives zeros, never NaN."""
    x, block = case
    check_softmax(k, x, block)


@prop(weight=2, given={"case": softmax_cases(regimes=("huge",), max_len=16)}, examples=12)
def softmax_huge(k, case):
    """Inputs around ±10^4 with spreads of thousands: no overflow, no NaN."""
    x, block = case
    # Any intermediate that holds a value of magnitude M (such as lse = m + log d, if an attempt
    # normalises with exp(x − lse)) is only known to M·eps of its dtype, and exp turns that into a
    # relative error: allow 8·M·eps on top of the usual tolerance.
    fin = np.abs(x[np.isfinite(x)])
    eps = np.finfo(x.dtype).eps / 2
    base = tol(x.dtype)
    loose = dict(base, rtol=max(base["rtol"], 8 * (float(fin.max()) if fin.size else 0.0) * eps))
    check_softmax(k, x, block, tolerance=loose)


@prop(weight=2, given={"case": softmax_cases(dtypes=("float64",), max_rank=2, max_len=64)}, examples=10)
def float64_accuracy(k, case):
    """float64 input is computed to float64 accuracy (rtol 1e-11), not through float32."""
    x, block = case
    check_softmax(k, x, block, tolerance=F64,
                  what=f"online_softmax of float64 x (shape {x.shape}, block={block or 'default'}) "
                       "to float64 accuracy")


@st.composite
def shape_cases(draw):
    dtype = draw(st.sampled_from(["float32", "float64"]))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    x = fill(np.random.default_rng(draw(seeds())), shape, "plain").astype(dtype)
    return x, draw(st.sampled_from(block_choices(shape[-1])))


@prop(weight=1, given={"case": shape_cases()}, examples=10)
def dtype_shape(k, case):
    """The result has the input's shape and dtype, and the input is left unchanged."""
    x, block = case
    args = (x.copy(),) if block is None else (x.copy(), block)
    out = k.invoke("online_softmax", *args, return_args=True)
    got = out.value
    if not hasattr(got, "dtype"):
        fail("online_softmax must return a numpy array", expected="np.ndarray", got=got)
    expect(tuple(got.shape) == x.shape, "the result must have the input's shape",
           expected=x.shape, got=tuple(got.shape))
    check_dtype(got, x.dtype, "the result")
    expect(np.array_equal(out.args[0], x), "online_softmax must not modify its input",
           expected="x unchanged", got="x was changed in place")
    check_close(got, direct_softmax(x), **tol(x.dtype), what="the result")


# The inputs worst for O(rows × block) working memory, as (shape, dtype, block, what they catch):
MEMORY_CASES = [
    # a typical batch: any temporary as large as x (x − m, exp(x), a copy) is 256 KiB;
    ((8, 4096), "float64", 256, "a typical batch"),
    # long rows, small blocks: a whole row at a time (a temporary of n values per row) is 256 KiB,
    # and a float64 copy or staging of the float32 x is 2x the output (512 blocks a row);
    ((2, 32768), "float32", 64, "long rows, small blocks"),
    # many rows, small blocks: stats kept per block are 128 blocks x 256 rows = 256 KiB an array.
    ((256, 1024), "float64", 8, "many rows, small blocks"),
]


@prop(weight=2)
def bounded_memory(k):
    """Working memory is O(rows × block) beyond the output: no temporary as large as x or a row, no stats kept per block."""
    rng = np.random.default_rng(11)
    for shape, dtype, block, what in MEMORY_CASES:
        x = (rng.standard_normal(shape) * 6).astype(dtype)
        out = k.invoke("online_softmax", x, block, probes=["python_peak_memory"], timeout=20)
        where = f"x of shape {shape}, {dtype}, block = {block} ({what})"
        check_close(out.value, direct_softmax(x), **tol(dtype), what=f"online_softmax({where})")
        rows = x.size // shape[-1]
        # A block in float64 is rows·block·8 bytes: 8 of them alive at once is twice what the
        # reference needs (its peak is < 5 blocks); O(rows) stats take 32 float64 per row; 16 KiB
        # for the interpreter's own small objects.
        allowed = 8 * rows * block * 8 + 32 * rows * 8 + 16 * 1024
        _within(out.probes["python_peak_memory"], out.value.nbytes, allowed, where)
    # The same rule for every byte made resident, whichever library holds it (Python's allocator,
    # which the cases above read, does not see a torch tensor or a C buffer): x is 4 MiB, so a
    # full-size temporary anywhere stands out from the meter's MiB-scale noise.
    shape, block = (4, 131072), 512
    x = rng.standard_normal(shape) * 6
    out = k.invoke("online_softmax", x, block, probes=["peak_memory"], timeout=20)
    where = f"x of shape {shape}, float64, block = {block} (counted in any library)"
    check_close(out.value, direct_softmax(x), **F64, what=f"online_softmax({where})")
    # 2 MiB: a page-granular meter's slack, ~0.3 MiB of state a first call may leave, and blocks
    # (right attempts measure ≤ 0.2 MiB beyond the output; one full-size temporary is 4 MiB).
    _within(out.probes["peak_memory"]["peak_bytes"], out.value.nbytes, 2 * 2**20, where)


def _within(peak, out_bytes, allowed, where):
    expect(peak <= out_bytes + allowed,
           "beyond the output array, memory must stay O(rows × block): no temporary as large as x "
           "or as a whole row (such as x − max, exp over whole rows, a float64 copy of x, in numpy, "
           "torch or anything else), and no stats kept for every block — work one block at a "
           "time, keep one running (m, d) per row, and write the normalised blocks straight into "
           "the output",
           expected=f"≤ {(out_bytes + allowed) / 1024:.0f} KiB (output {out_bytes / 1024:.0f} KiB "
                    f"+ {allowed / 1024:.0f} KiB)",
           got=f"{peak / 1024:.0f} KiB at {where}")
