"""Hidden suite for checkpointing. The worker (harness.py) builds a seeded layer stack from a
recipe, runs the attempt's forward and a seeded .backward(); this checker builds the same stack
and runs it plainly, with the same global RNG seed, and compares. Memory is tracked in the worker
as every byte the forward leaves alive, and their peak over forward and backward, whichever
library or hook holds them (checker.probes.PeakMemory, through katas/_shared/layers.py)."""
import torch
from hypothesis import strategies as st

from checker.suite import expect, fail, prop
from katas._shared.layers import plain, run_stack
from katas._shared.numeric import check_close

# Same ops in float64 on both sides; a correct attempt differs from the plain run at most by the
# order in which gradient contributions are summed, ~1e-15 relative. 1e-9 leaves wide room for
# that and still catches any wrong mask, missing term or stale activation (errors of order 1e-2).
RTOL, ATOL = 1e-9, 1e-12

# The checker runs the plain stacks itself; intra-op threads only contend on a busy 2-core
# machine (the 49-layer memory case took 1-3 s with two threads under load, 0.1 s with one).
torch.set_num_threads(1)

seeds = st.integers(0, 2**16)


@st.composite
def layer_specs(draw, d, fns=False, dropout=True):
    kinds = ["linear", "linear", "act", "block"] + (["dropout"] if dropout else []) + (["fn"] if fns else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "linear":
        return ["linear", d, draw(seeds), draw(st.booleans())]
    if kind == "act":
        return ["act", draw(st.sampled_from(["tanh", "gelu", "sigmoid", "relu"]))]
    if kind == "block":
        p = draw(st.sampled_from([0.0, 0.3])) if dropout else 0.0
        return ["block", d, draw(st.integers(1, 6)), p, draw(seeds), draw(st.booleans())]
    if kind == "dropout":
        return ["dropout", draw(st.sampled_from([0.2, 0.5]))]
    return ["fn", draw(st.sampled_from(["sin", "tanh"]))]


@st.composite
def cases(draw, min_layers=1, max_layers=8, x_grad=None, fns=False, dropout=True, force_dropout=False,
          segments=None):
    d = draw(st.integers(1, 5))
    n = draw(st.integers(min_layers, max_layers))
    layers = [draw(layer_specs(d, fns, dropout)) for _ in range(n)]
    if force_dropout:
        # A dropout first, then a trainable linear: its weight's gradient depends on the mask, and
        # with segments >= 2 the first segment is always recomputed (even if the last one is not).
        layers = [["dropout", 0.5], ["linear", d, draw(seeds), False]] + layers
    n = len(layers)
    recipe = {"layers": layers, "dtype": "float64", "x_shape": [draw(st.integers(1, 4)), d],
              "x_seed": draw(seeds), "x_grad": draw(st.booleans()) if x_grad is None else x_grad,
              "rng_seed": draw(seeds), "up_seed": draw(seeds)}
    if segments == "edge":
        # 1, exactly n, more than n, and a count that does not divide n.
        choices = [1, n, n + draw(st.integers(1, 5))] + [k for k in range(2, n) if n % k]
        segs = draw(st.sampled_from(choices))
    elif segments == "multi":
        segs = draw(st.integers(2, n))
    else:
        segs = draw(st.integers(1, n + 2))
    return recipe, segs


def _run(k, recipe, segments, measure=False):
    got = k.harness("run", recipe, segments, measure=measure).value
    if "error" in got:
        fail("checkpoint_sequential must return a torch.Tensor", expected="Tensor", got=got["error"])
    return got


def _expect_same_output(got, exp):
    check_close(got["out"], exp["out"], rtol=RTOL, atol=ATOL, what="the output (vs running the layers plainly)")


def _expect_same_grads(got, exp, recipe):
    needs_grad = any(g is not None for g in exp["grads"]) or recipe["x_grad"]
    expect(got["out_requires_grad"] or not needs_grad,
           "the output must require grad when x or any parameter does (else .backward() is impossible "
           "and the parameters get no gradient)", expected="out.requires_grad == True", got=False)
    if recipe["x_grad"]:
        expect(got["x_grad"] is not None, "x requires grad, so x.grad must be set after backward",
               expected="a gradient", got=None)
        check_close(got["x_grad"], exp["x_grad"], rtol=RTOL, atol=ATOL, what="x.grad")
    for name, g, e in zip(exp["names"], got["grads"], exp["grads"]):
        if e is None:
            expect(g is None, f"{name} is frozen (requires_grad=False): it must get no gradient",
                   expected=None, got="a gradient")
        else:
            expect(g is not None, f"{name} must get a gradient (it requires grad)", expected="a gradient",
                   got=None)
            check_close(g, e, rtol=RTOL, atol=ATOL, what=f"the gradient of {name}")


def _expect_same_as_plain(k, recipe, segments):
    """Output, x.grad and every parameter's gradient as when the layers run plainly."""
    got = _run(k, recipe, segments)
    exp = run_stack(recipe, plain)
    _expect_same_output(got, exp)
    _expect_same_grads(got, exp, recipe)


@prop(weight=2, given={"case": cases()}, examples=8)
def output_matches_plain(k, case):
    """The output equals applying the layers in order (any segment count)."""
    recipe, segments = case
    got = _run(k, recipe, segments)
    _expect_same_output(got, run_stack(recipe, plain))


@prop(weight=4, given={"case": cases(x_grad=True)}, examples=12)
def grads_match_plain(k, case):
    """x.grad and every parameter's gradient equal the plain run's (frozen ones get none)."""
    _expect_same_as_plain(k, *case)


@prop(weight=3, given={"case": cases(x_grad=False)}, examples=8)
def grads_when_x_needs_none(k, case):
    """x does not require grad: the parameters still get their gradients (the reentrant pitfall)."""
    _expect_same_as_plain(k, *case)


@prop(weight=3, given={"case": cases(force_dropout=True, segments="multi", max_layers=5)}, examples=10)
def dropout_replay(k, case):
    """Dropout layers see the same random numbers when their segment is recomputed."""
    _expect_same_as_plain(k, *case)


@prop(weight=2, given={"case": cases(min_layers=2, max_layers=9, segments="edge")}, examples=10)
def segment_counts(k, case):
    """segments = 1, = number of layers, > number of layers (clamped), and not dividing it."""
    _expect_same_as_plain(k, *case)


@prop(weight=1, given={"case": cases(fns=True)}, examples=5)
def plain_callables(k, case):
    """Layers may be plain functions (no parameters), not only nn.Modules."""
    _expect_same_as_plain(k, *case)


@prop(weight=1, given={"segments": st.sampled_from([0, -1, -5])}, examples=3)
def rejects_bad_segments(k, segments):
    """segments < 1 raises ValueError."""
    with k.raises("ValueError", f"segments={segments} must raise ValueError"):
        k.harness("bad_segments", segments)


@prop(weight=2, given={"case": cases(min_layers=2, max_layers=9)}, examples=8)
def each_layer_at_most_twice(k, case):
    """Each layer runs once in the forward and at most once more in the backward."""
    recipe, segments = case
    got = _run(k, recipe, segments)
    for i, (f, total) in enumerate(zip(got["calls_forward"], got["calls"])):
        expect(f == 1, f"layers[{i}] must run exactly once during the forward", expected=1, got=f)
        expect(total <= 2, f"layers[{i}] ran {total} times over forward + backward: recompute each "
               "segment once, from its saved input", expected="≤ 2", got=total)


# The memory case is the one worst for memory: a deep stack whose activations dwarf its
# parameters (batch 2048 x d 32 in float64 is 0.5 MiB per activation, a weight 8 KiB), x without
# grad, and sqrt(n) segments of equal size, where checkpointing keeps the least: 7 segment inputs
# plus one segment of 7 layers, against 49 activations for a plain run.
DEEP = {"n": 49, "d": 32, "batch": 2048, "segments": 7}


def _deep_stack(n, d, batch):
    layers = [["linear", d, i, False] if i % 2 == 0 else ["act", "gelu"] for i in range(n)]
    return {"layers": layers, "dtype": "float64", "x_shape": [batch, d], "x_seed": 1, "x_grad": False,
            "rng_seed": 3, "up_seed": 4}


@prop(weight=3)
def memory_deep_stack(k):
    """49 layers in 7 segments: memory alive after the forward and at peak ~ segment inputs + one segment."""
    n, segments = DEEP["n"], DEEP["segments"]
    recipe = _deep_stack(n, DEEP["d"], DEEP["batch"])
    a = DEEP["batch"] * DEEP["d"] * 8   # bytes of one activation (float64)
    s = n // segments
    got = _run(k, recipe, segments, measure=True)
    exp = run_stack(recipe, plain)
    _expect_same_output(got, exp)
    _expect_same_grads(got, exp, recipe)
    # Memory is every byte resident in the worker (checker.probes.PeakMemory), whoever holds it:
    # autograd, the attempt's own hooks or Function ctx, numpy copies. Each of these layers keeps
    # one activation (its input) in a plain run: 49 here. Checkpointing keeps the segment inputs
    # (the reference 6, x is not counted; running the last segment plainly keeps 6 + 7) and, in
    # backward, one recomputed segment plus ~3 activations of gradients in flight (the reference
    # peaks at 16.1). Budgets: 1.25 x (segments + one segment) = 17.5 activations after the
    # forward, that + 4 at peak = 21.5; a plain run measures 48.4 and 51.3, one big segment 52.3.
    keep = 1.25 * (segments + s) * a
    peak = keep + 4 * a
    plain_keep = f"a plain run keeps ≈ {(n - 1) * a / 2**20:.1f} MiB"
    expect(got["retained"] <= keep,
           f"with {segments} segments of {s} layers, keep only the segment inputs after the forward",
           expected=f"≤ {keep / 2**20:.2f} MiB (≈ {segments} segment inputs + one segment; {plain_keep})",
           got=f"{got['retained'] / 2**20:.2f} MiB alive after the forward (besides its output)")
    expect(got["peak"] <= peak,
           f"with {segments} segments, memory during backward must peak near segment inputs + one "
           "segment (recompute one segment at a time, not the whole stack)",
           expected=f"≤ {peak / 2**20:.2f} MiB ({plain_keep} and peaks above that)",
           got=f"{got['peak'] / 2**20:.2f} MiB at peak over forward + backward")
