"""Hidden suite for rope_2d: 1D RoPE in both pair layouts, MoonViT's 2D RoPE, packed positions.

Expected values come from the definition, written here as complex products in float64 with the
frequencies from Python floats (never from the reference's code). The relative-position and
layout properties compare the attempt with itself, so they hold for any correct convention.
Each case is a small recipe; failure messages spell out the exact call that was made.
"""
from __future__ import annotations

import torch
from hypothesis import strategies as st

from checker.suite import expect, fail, prop
from katas._shared.numeric import check_close, check_dtype
from katas._shared.readings import expect_tensors_within
from katas._shared.torch_builders import seeded_tensor, seeds

# ---- tolerances -----------------------------------------------------------------------------
# Compared as |got - exp| <= TOL * (|exp| + max|x|): a rotated element a·cos − b·sin can be near 0
# while a and b are not, so its rounding error scales with the pair, not with the element.
# float64: angles up to 1e5 rad off by <= ~1e-11 (theta_i within a few ulp, one rounding of the
#   product), cos/sin and two products within a few ulp: ~1e-11, so 1e-9 (10^2 margin); float32
#   angles are off by up to 4e-3 rad at p = 1e5 and by 1e-4 at p = 4096.
# float32: cos/sin cast to float32 and two float32 products and a sum: <= ~4 roundings of 6e-8,
#   so 1e-5 (40x margin); any wrong pair, sign or frequency moves an element by O(|x|).
# bfloat16 / float16: the same four roundings at 3.9e-3 / 4.9e-4 (an attempt may compute in the
#   input's dtype), so 3e-2 / 5e-3.
TOL = {"float64": 1e-9, "float32": 1e-5, "bfloat16": 3e-2, "float16": 5e-3}
# Dot products <R(m)q, R(n)k> in float64 over <= 128 terms, both sides from the attempt: each
# rotated element within ~1e-11·|pair| (see above), so a dot within ~1e-10·|q||k|; 1e-8 leaves
# 100x, while float32 angles at p ~ 1e5 move it by >= 1e-5·|q||k| (theta_i > 0 is inexact in float32).
DOT_TOL = 1e-9

LAYOUTS = ("interleaved", "half")
BASES = (10000.0, 100.0, 500000.0)          # RoFormer/LLaMA, a small one, Llama 3's


# ---- the definition -------------------------------------------------------------------------
def pair_indices(layout, dim):
    """(first, second): pair j is (x[first[j]], x[second[j]])."""
    if layout == "interleaved":
        return list(range(0, dim, 2)), list(range(1, dim, 2))
    return list(range(dim // 2)), list(range(dim // 2, dim))


def rotate(x, first, second, angles):
    """x with pair j of token t replaced by (a + ib)·e^{i·angles[t, j]}, in float64."""
    x = x.to(torch.float64)
    z = torch.complex(x[..., first], x[..., second]) * torch.polar(torch.ones_like(angles), angles)
    out = torch.empty_like(x)
    out[..., first], out[..., second] = z.real, z.imag
    return out


def thetas(n, dim, base, step):
    return torch.tensor([base ** (-step * i / dim) for i in range(n)], dtype=torch.float64)


def rope_1d(x, positions, base, layout):
    dim = x.shape[-1]
    angles = torch.tensor(positions, dtype=torch.float64)[:, None] * thetas(dim // 2, dim, base, 2)
    return rotate(x, *pair_indices(layout, dim), angles)


def rope_2d(x, h_pos, w_pos, base):
    """MoonViT: theta_i = base^(-4i/dim); pair 2i turns by w·theta_i, pair 2i+1 by h·theta_i."""
    dim = x.shape[-1]
    th = thetas(dim // 4, dim, base, 4)
    w = torch.tensor(w_pos, dtype=torch.float64)[:, None] * th
    h = torch.tensor(h_pos, dtype=torch.float64)[:, None] * th
    angles = torch.stack([w, h], dim=-1).flatten(-2)
    return rotate(x, *pair_indices("interleaved", dim), angles)


def positions_of(grids):
    """Raster order per image: token r·w + c of an image is (r, c); restart at 0 per image."""
    h_pos, w_pos, cu = [], [], [0]
    for h, w in grids:
        for r in range(h):
            for c in range(w):
                h_pos.append(r)
                w_pos.append(c)
        cu.append(cu[-1] + h * w)
    return h_pos, w_pos, cu


# ---- recipes --------------------------------------------------------------------------------
def position_lists(n):
    """n positions: small, up to a long context (4096), or up to 10^5 (float32 angles fail)."""
    top = st.sampled_from([16, 4096, 100_000])
    return top.flatmap(lambda hi: st.lists(st.integers(0, hi), min_size=n, max_size=n))


@st.composite
def x_recipe(draw, dims, dtypes=("float32", "float64"), max_t=6):
    t = draw(st.integers(1, max_t))
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    return {"shape": lead + (t, draw(dims)), "dtype": draw(st.sampled_from(dtypes)),
            "seed": draw(seeds()), "scale": draw(st.sampled_from([1.0, 30.0]))}


def even_dims():
    return st.one_of(st.integers(1, 12).map(lambda n: 2 * n), st.sampled_from([64, 128]))


def dims_of_4():
    return st.one_of(st.integers(1, 8).map(lambda n: 4 * n), st.sampled_from([64, 128]))


@st.composite
def rope_cases(draw, layout="any", dtypes=("float32", "float64")):
    """A call apply_rope(x, positions, [base=...], [layout=...]); None = argument left out.
    layout: "default" (left out or "interleaved"), "any" (either layout, passed), or one layout."""
    x = draw(x_recipe(even_dims(), dtypes))
    if layout == "default":
        layout = draw(st.sampled_from([None, "interleaved"]))
    elif layout == "any":
        layout = draw(st.sampled_from(LAYOUTS))
    return {"x": x, "positions": draw(position_lists(x["shape"][-2])),
            "base": draw(st.sampled_from((None,) + BASES)), "layout": layout}


@st.composite
def rope_2d_cases(draw, dtypes=("float32", "float64")):
    x = draw(x_recipe(dims_of_4(), dtypes))
    t = x["shape"][-2]
    return {"x": x, "h_pos": draw(position_lists(t)), "w_pos": draw(position_lists(t)),
            "base": draw(st.sampled_from((None,) + BASES))}


def build_x(recipe):
    return seeded_tensor(recipe["shape"], recipe["dtype"], recipe["seed"], recipe["scale"])


def seeded_text(name, shape, dtype, seed, scale=1.0):
    """The torch expression seeded_tensor evaluates: what a learner pastes to rebuild an input."""
    return (f"{name} = (torch.randn({tuple(shape)}, generator=torch.Generator().manual_seed({seed}), "
            f"dtype=torch.float64) * {scale}).to(torch.{dtype})")


def x_text(recipe):
    return seeded_text("x", recipe["shape"], recipe["dtype"], recipe["seed"], recipe["scale"])


def kwargs_of(case, names=("base", "layout")):
    return {n: case[n] for n in names if case.get(n) is not None}


def kwargs_text(kwargs):
    return "".join(f", {n}={v!r}" for n, v in kwargs.items())


def call_text(fn, case, tensor_args):
    args = ", ".join(["x"] + [f"torch.tensor({case[a]})" for a in tensor_args]
                     + [f"{n}={v!r}" for n, v in kwargs_of(case).items()])
    return f"{fn}({args}) with {x_text(case['x'])}"


def base_of(case):
    return 10000.0 if case.get("base") is None else case["base"]


# ---- calling and comparing ------------------------------------------------------------------
def tensor_result(v, like, what):
    if not isinstance(v, torch.Tensor):
        fail(f"{what} must return a torch.Tensor", expected="Tensor", got=type(v).__name__)
    expect(tuple(v.shape) == tuple(like.shape), f"{what} must keep x's shape",
           expected=tuple(like.shape), got=tuple(v.shape))
    return v


def close(got, expected, x, what):
    tol = TOL[str(x.dtype).removeprefix("torch.")]
    check_close(got, expected, rtol=tol, atol=tol * float(x.abs().max()), what=what)


def call_rope(k, case, x=None, positions=None, **override):
    """apply_rope on the case (or on x / positions / kwargs given here), with its call's text."""
    case = dict(case, **override)
    if positions is not None:
        case["positions"] = positions
    x = build_x(case["x"]) if x is None else x
    what = call_text("apply_rope", case, ["positions"])
    got = k.attempt.apply_rope(x, torch.tensor(case["positions"]), **kwargs_of(case))
    return tensor_result(got, x, what), x, what


def call_rope_2d(k, case, x=None):
    x = build_x(case["x"]) if x is None else x
    what = call_text("apply_rope_2d", case, ["h_pos", "w_pos"])
    got = k.attempt.apply_rope_2d(x, torch.tensor(case["h_pos"]), torch.tensor(case["w_pos"]),
                                  **kwargs_of(case, ("base",)))
    return tensor_result(got, x, what), x, what


def check_rope(k, case):
    got, x, what = call_rope(k, case)
    close(got, rope_1d(x, case["positions"], base_of(case), case["layout"] or "interleaved"), x, what)


def check_rope_2d(k, case):
    got, x, what = call_rope_2d(k, case)
    close(got, rope_2d(x, case["h_pos"], case["w_pos"], base_of(case)), x, what)


# ---- frequencies ----------------------------------------------------------------------------
@prop(weight=1, given={"dim": even_dims(), "base": st.sampled_from((None,) + BASES)}, examples=10)
def frequencies(k, dim, base):
    """rope_frequencies(dim, base) is float64 (dim/2,): base^(-2i/dim)."""
    got = k.attempt.rope_frequencies(dim) if base is None else k.attempt.rope_frequencies(dim, base)
    call = f"rope_frequencies({dim}{'' if base is None else f', {base!r}'})"
    if not isinstance(got, torch.Tensor):
        fail(f"{call} must return a torch.Tensor", got=type(got).__name__)
    check_dtype(got, torch.float64, call)
    # Each theta_i is one pow (or a division and a pow) away from exact: a few ulp.
    check_close(got, thetas(dim // 2, dim, 10000.0 if base is None else base, 2), rtol=1e-13,
                atol=0, what=call)


# ---- 1D -------------------------------------------------------------------------------------
@prop(weight=3, given={"case": rope_cases(layout="default")}, examples=20)
def rope_interleaved(k, case):
    """layout="interleaved" (the default): pair (2j, 2j+1) of token t turns by positions[t]·theta_j."""
    check_rope(k, case)


@prop(weight=2, given={"case": rope_cases(layout="half")}, examples=15)
def rope_half(k, case):
    """layout="half" (HF rotate_half): pair (j, j + dim/2) of token t turns by positions[t]·theta_j."""
    check_rope(k, case)


@prop(weight=2, given={"case": rope_cases(layout="half")}, examples=10)
def layouts_permuted(k, case):
    """Both layouts are the same rotation: interleaved on x[..., perm] = half on x, then [..., perm]."""
    x = build_x(case["x"])
    dim = x.shape[-1]
    perm = [j for pair in zip(range(dim // 2), range(dim // 2, dim)) for j in pair]
    half, _, what_half = call_rope(k, case, x=x, layout="half")
    inter, _, what_inter = call_rope(k, case, x=x[..., perm].contiguous(), layout="interleaved")
    kw = ", ".join(f"{n}={v!r}" for n, v in kwargs_of(case, ("base",)).items())
    what = (f"apply_rope(x[..., perm], p, {kw + ', ' if kw else ''}layout='interleaved') vs "
            f"apply_rope(x, p, {kw + ', ' if kw else ''}layout='half')[..., perm], "
            f"p = torch.tensor({case['positions']}), perm = {perm[:8]}{'…' if dim > 8 else ''}, "
            f"{x_text(case['x'])}")
    close(inter, half[..., perm], x, what)


# ---- 2D -------------------------------------------------------------------------------------
@prop(weight=4, given={"case": rope_2d_cases()}, examples=20)
def rope_2d_moonvit(k, case):
    """apply_rope_2d = MoonViT: theta_i = base^(-4i/dim); dims (4i, 4i+1) turn by w·theta_i, (4i+2, 4i+3) by h·theta_i."""
    check_rope_2d(k, case)


@prop(weight=1, given={"case": rope_2d_cases()}, examples=10)
def rope_2d_frequencies(k, case):
    """2D with h = w = p: pairs 2i and 2i+1 both turn by p·base^(-4i/dim) (the frequencies, whatever the axis order)."""
    case = dict(case, w_pos=list(case["h_pos"]))
    check_rope_2d(k, case)


# ---- properties of any rotary embedding -----------------------------------------------------
def pair_norms(x, layout):
    first, second = pair_indices(layout, x.shape[-1])
    x = x.to(torch.float64)
    return torch.hypot(x[..., first], x[..., second])


@prop(weight=1, given={"case": rope_cases(), "case2": rope_2d_cases()}, examples=8)
def pair_norms_preserved(k, case, case2):
    """Each pair of the layout keeps its norm ((2j, 2j+1), or (j, j + dim/2); 2D interleaved): a rotation per pair."""
    for call, layout in ((lambda: call_rope(k, case), case["layout"] or "interleaved"),
                         (lambda: call_rope_2d(k, case2), "interleaved")):
        got, x, what = call()   # judged before the next call: the failing call is the one shown
        tol = TOL[str(x.dtype).removeprefix("torch.")]
        # Each rotated element is within ~tol·|pair| of exact (see TOL), so is the pair's norm.
        check_close(pair_norms(got, layout), pair_norms(x, layout), rtol=tol,
                    atol=tol * float(x.abs().max()), what=f"norms of the {layout} pairs of {what}")


def _dots(a, b):
    return (a.to(torch.float64) * b.to(torch.float64)).sum(-1)


def check_shift(q, kk, dots, shifted, what, depends_on="m - n"):
    scale = q.to(torch.float64).norm(dim=-1) * kk.to(torch.float64).norm(dim=-1)
    err = (shifted - dots).abs() / scale
    worst = int(err.argmax())
    expect(float(err[worst]) <= DOT_TOL,
           f"{what}: the dot product must depend only on {depends_on}, also at positions near 10^5 "
           "(compute the angles in float64)",
           expected=f"token {worst}: {float(dots[worst]):.12g} (unshifted)",
           got=f"{float(shifted[worst]):.12g} (shifted; off by {float(err[worst]):.2g}·|q||k|)")


@st.composite
def shift_cases(draw, two_d=False):
    dim = draw(dims_of_4() if two_d else even_dims())
    t = draw(st.integers(1, 4))
    small = st.lists(st.integers(0, 64), min_size=t, max_size=t)
    case = {"dim": dim, "seed": draw(seeds()), "base": draw(st.sampled_from((None,) + BASES))}
    axes = ("h", "w") if two_d else ("p",)
    for a in axes:
        case[f"q_{a}"], case[f"k_{a}"] = draw(small), draw(small)
    if two_d:
        which = draw(st.sampled_from(["h", "w", "both"]))
        big = st.integers(10_000, 100_000)
        case["shift_h"] = draw(big) if which in ("h", "both") else draw(st.integers(0, 3))
        case["shift_w"] = draw(big) if which in ("w", "both") else draw(st.integers(0, 3))
    else:
        case["shift"] = draw(st.integers(10_000, 100_000))
    return case


def qk_text(case, t):
    return (seeded_text("q", (t, case["dim"]), "float64", case["seed"]) + "; "
            + seeded_text("k", (t, case["dim"]), "float64", case["seed"] + 1))


def qk(case, t):
    return (seeded_tensor((t, case["dim"]), "float64", case["seed"]),
            seeded_tensor((t, case["dim"]), "float64", case["seed"] + 1))


@prop(weight=2, given={"case": shift_cases(), "layout": st.sampled_from(LAYOUTS)}, examples=10)
def relative_position_1d(k, case, layout):
    """<R(m)q, R(n)k> depends only on m - n: unchanged when m, n shift by 10^4..10^5 (float64 q, k)."""
    q, kk = qk(case, len(case["q_p"]))
    kw = dict(kwargs_of(case, ("base",)), layout=layout)
    s = case["shift"]

    def rope(x, pos):
        return tensor_result(k.attempt.apply_rope(x, torch.tensor(pos), **kw), x, "apply_rope")

    dots = _dots(rope(q, case["q_p"]), rope(kk, case["k_p"]))
    shifted = _dots(rope(q, [p + s for p in case["q_p"]]), rope(kk, [p + s for p in case["k_p"]]))
    check_shift(q, kk, dots, shifted,
                f"apply_rope(q, m + {s}{kwargs_text(kw)}) · apply_rope(k, n + {s}{kwargs_text(kw)}) "
                f"vs the same at m, n; m = {case['q_p']}, n = {case['k_p']}, {qk_text(case, len(case['q_p']))}")


@prop(weight=2, given={"case": shift_cases(two_d=True)}, examples=10)
def relative_position_2d(k, case):
    """2D: <R(h1,w1)q, R(h2,w2)k> depends only on (h1-h2, w1-w2): shifts up to 10^5 on either axis."""
    t = len(case["q_h"])
    q, kk = qk(case, t)
    kw = kwargs_of(case, ("base",))
    sh, sw = case["shift_h"], case["shift_w"]

    def rope(x, h, w):
        return tensor_result(k.attempt.apply_rope_2d(x, torch.tensor(h), torch.tensor(w), **kw), x,
                             "apply_rope_2d")

    dots = _dots(rope(q, case["q_h"], case["q_w"]), rope(kk, case["k_h"], case["k_w"]))
    plus = lambda ps, s: [p + s for p in ps]
    shifted = _dots(rope(q, plus(case["q_h"], sh), plus(case["q_w"], sw)),
                    rope(kk, plus(case["k_h"], sh), plus(case["k_w"], sw)))
    check_shift(q, kk, dots, shifted,
                f"apply_rope_2d(q, h_q + {sh}, w_q + {sw}{kwargs_text(kw)}) · apply_rope_2d(k, h_k + {sh}, "
                f"w_k + {sw}{kwargs_text(kw)}) vs the same unshifted; (h_q, w_q) = "
                f"{list(zip(case['q_h'], case['q_w']))}, (h_k, w_k) = {list(zip(case['k_h'], case['k_w']))}, "
                f"{qk_text(case, t)}", depends_on="(h_q - h_k, w_q - w_k)")


@prop(weight=1, given={"case": rope_cases(), "case2": rope_2d_cases()}, examples=6)
def position_zero_identity(k, case, case2):
    """At position 0 (h = w = 0 in 2D) the rotation is the identity: the result is x."""
    t = case["x"]["shape"][-2]
    got, x, what = call_rope(k, case, positions=[0] * t)
    close(got, x, x, what)
    t2 = case2["x"]["shape"][-2]
    case2 = dict(case2, h_pos=[0] * t2, w_pos=[0] * t2)
    got, x, what = call_rope_2d(k, case2)
    close(got, x, x, what)


ALL_DTYPES = ("bfloat16", "float16", "float32", "float64")


@prop(weight=1, given={"case": rope_cases(dtypes=ALL_DTYPES), "case2": rope_2d_cases(dtypes=ALL_DTYPES)},
      examples=6)
def dtypes_kept(k, case, case2):
    """The result has x's dtype (bfloat16, float16, float32, float64) and shape, 1D and 2D."""
    for call in (lambda: call_rope(k, case), lambda: call_rope_2d(k, case2)):
        got, x, what = call()
        check_dtype(got, x.dtype, what)


@prop(weight=1, given={"case": rope_cases(dtypes=("bfloat16", "float16")),
                       "case2": rope_2d_cases(dtypes=("bfloat16", "float16"))}, examples=8)
def low_precision_values(k, case, case2):
    """bfloat16 / float16 x: right to the dtype's precision, positions up to 10^5 included."""
    got, x, what = call_rope(k, case)
    close(got, rope_1d(x, case["positions"], base_of(case), case["layout"]), x, what)
    got, x, what = call_rope_2d(k, case2)
    close(got, rope_2d(x, case2["h_pos"], case2["w_pos"], base_of(case2)), x, what)


@prop(weight=1, given={"case": rope_cases(), "case2": rope_2d_cases()}, examples=5)
def inputs_unchanged(k, case, case2):
    """apply_rope and apply_rope_2d modify neither x nor the positions."""
    x = build_x(case["x"])
    pos = torch.tensor(case["positions"])
    out = k.invoke("apply_rope", x, pos, return_args=True, **kwargs_of(case))
    expect(torch.equal(out.args[0], x) and torch.equal(out.args[1], pos),
           f"{call_text('apply_rope', case, ['positions'])} modified its x or positions argument")
    x = build_x(case2["x"])
    h, w = torch.tensor(case2["h_pos"]), torch.tensor(case2["w_pos"])
    out = k.invoke("apply_rope_2d", x, h, w, return_args=True, **kwargs_of(case2, ("base",)))
    same = all(torch.equal(a, b) for a, b in zip(out.args, (x, h, w)))
    expect(same, f"{call_text('apply_rope_2d', case2, ['h_pos', 'w_pos'])} modified x, h_pos or w_pos")


@prop(weight=1)
def rejects_bad_dim(k):
    """ValueError for an odd dim (apply_rope), dim % 4 != 0 (apply_rope_2d), an unknown layout."""
    x5, x6 = seeded_tensor((3, 5)), seeded_tensor((3, 6))
    p = torch.tensor([0, 1, 2])
    with k.raises("ValueError", "apply_rope(x, positions) with dim = 5 (odd) must raise ValueError"):
        k.attempt.apply_rope(x5, p)
    with k.raises("ValueError", "apply_rope_2d(x, h_pos, w_pos) with dim = 6 (not a multiple of 4, "
                                "as MoonViT asserts) must raise ValueError"):
        k.attempt.apply_rope_2d(x6, p, p)
    with k.raises("ValueError", "apply_rope(x, positions, layout='rotate_half') must raise ValueError "
                                "(the layouts are 'interleaved' and 'half')"):
        k.attempt.apply_rope(x6, p, layout="rotate_half")


# ---- packed positions -----------------------------------------------------------------------
def one_grid():
    """An image's (h, w): 1 × 1, one row, one column, small, or larger."""
    side = st.integers(1, 12)
    return st.one_of(st.just((1, 1)), st.tuples(st.just(1), side), st.tuples(side, st.just(1)),
                     st.tuples(side, side), st.tuples(st.integers(13, 40), st.integers(13, 40)))


def grids(min_size=0):
    """A list of grids, as tuples or (as MoonViT's grid_hws.tolist() gives them) lists."""
    return st.tuples(st.lists(one_grid(), min_size=min_size, max_size=6), st.booleans()).map(
        lambda gl: [list(g) for g in gl[0]] if gl[1] else gl[0])


def call_positions(k, grid_hw):
    got = k.attempt.patch_positions(grid_hw)
    call = f"patch_positions({grid_hw})"
    expect(isinstance(got, (tuple, list)) and len(got) == 3,
           f"{call} must return 3 tensors (h_pos, w_pos, cu_seqlens)", got=type(got).__name__)
    for name, v in zip(("h_pos", "w_pos", "cu_seqlens"), got):
        if not isinstance(v, torch.Tensor):
            fail(f"{call}: {name} must be a torch.Tensor", got=type(v).__name__)
    return got, call


def check_values(call, name, got, expected, rule):
    expect(tuple(got.shape) == (len(expected),), f"{call}: {name} must have shape ({len(expected)},)",
           expected=(len(expected),), got=tuple(got.shape))
    expect(got.tolist() == expected, f"{call}: {rule}", expected=expected, got=got.tolist())


def check_positions(k, grid_hw, rule):
    (h, w, _), call = call_positions(k, grid_hw)
    eh, ew, _ = positions_of(grid_hw)
    check_values(call, "h_pos", h, eh, f"h_pos: {rule}")
    check_values(call, "w_pos", w, ew, f"w_pos: {rule}")


@prop(weight=2, given={"grid": one_grid()}, examples=12)
def patch_raster_order(k, grid):
    """One image (h, w): token r·w + c has h_pos = r, w_pos = c (row by row), 1 × 1 and 1 × w included."""
    check_positions(k, [grid], "raster order, row by row: token r·w + c of an image is at row r, "
                               "column c")


@prop(weight=1, given={"grid_hw": grids(min_size=2)}, examples=12)
def patch_positions_restart(k, grid_hw):
    """Several images: each image's positions restart at 0, in raster order."""
    check_positions(k, grid_hw, "each image's positions start again at (0, 0) (its own row and "
                                "column, not its place in the packed sequence)")


@prop(weight=1, given={"grid_hw": grids()}, examples=10)
def cu_seqlens_values(k, grid_hw):
    """cu_seqlens = 0, h1·w1, h1·w1 + h2·w2, … (n + 1 entries: image i is [cu[i], cu[i+1]))."""
    (_, _, cu), call = call_positions(k, grid_hw)
    check_values(call, "cu_seqlens", cu, positions_of(grid_hw)[2],
                 "cu_seqlens: 0, then the running total of h·w, one entry per image")


@prop(weight=1, given={"grid_hw": grids()}, examples=6)
def patch_dtypes(k, grid_hw):
    """h_pos and w_pos are int64; cu_seqlens is int32 (as flash-attn's varlen kernels take it)."""
    (h, w, cu), call = call_positions(k, grid_hw)
    check_dtype(h, torch.int64, f"{call}: h_pos")
    check_dtype(w, torch.int64, f"{call}: w_pos")
    check_dtype(cu, torch.int32, f"{call}: cu_seqlens")


# ---- memory ---------------------------------------------------------------------------------
# Worst case for a (T, dim, dim) rotation matrix: a long sequence and a large head dim. A
# rotation matrix per token is T·dim² = 128·T·dim elements (x is (T, dim), 1 MiB in float32).
# tensor_sizes (the discipline): a correct attempt's tensors are x-sized (angles, cos, sin, a
#   float64 copy: each ≤ T·dim elements; measured 1.0·T·dim for the reference and every
#   alternative), so 16·T·dim splits them from the matrices 8x each way.
# peak_memory (the bytes, whichever library holds them: torch, numpy, Python): the reference
#   peaks at 9·x.nbytes (float64 copies, cos, sin, products, the result), the alternatives at
#   8-11·x.nbytes (measured in the worker), the matrices at 263·x.nbytes in torch or numpy;
#   32·x.nbytes is 3x above the first and 8x below the second, far above the meter's ~MiB
#   resolution.
BIG_T, BIG_DIM = 2048, 128
BIG_GRIDS = [(32, 40), (24, 32), (1, 64)]
NUMEL_FACTOR, BYTES_FACTOR = 16, 32


def check_memory(k, fn, x, args, kwargs, what):
    """Memory only: the values are the other properties' concern."""
    out = k.invoke(fn, x, *args, probes=["tensor_sizes"], timeout=30, **kwargs)
    tensor_result(out.value, x, what)
    sizes = out.probes["tensor_sizes"]
    limit = NUMEL_FACTOR * x.numel()
    expect_tensors_within(sizes, limit, f"{what} made a tensor far larger than x: no (T, dim, dim) "
                          "rotation matrices; rotate each pair with cos and sin (memory O(T·dim))",
                          named=f"{NUMEL_FACTOR}·T·dim")
    out = k.invoke(fn, x, *args, probes=["peak_memory"], timeout=30, **kwargs)
    tensor_result(out.value, x, what)
    peak, limit = out.probes["peak_memory"]["peak_bytes"], BYTES_FACTOR * x.nbytes
    expect(peak <= limit,
           f"{what} used memory on the scale of T·dim² (counted whatever holds it: torch, numpy, "
           "Python): no (T, dim, dim) rotation matrices",
           expected=f"≤ {BYTES_FACTOR}·x.nbytes = {limit / 2**20:.0f} MiB above the start",
           got=f"{peak / 2**20:.1f} MiB at peak")


@prop(weight=2)
def no_rotation_matrices(k):
    """T = 2048, dim = 128 (1D both layouts) and 2112 packed patches (2D): no T·dim² tensor, no T·dim² bytes."""
    x = seeded_tensor((BIG_T, BIG_DIM), "float32", 11)
    positions = list(range(BIG_T))
    for layout in LAYOUTS:
        check_memory(k, "apply_rope", x, (torch.tensor(positions),), {"layout": layout},
                     f"apply_rope(x, torch.arange({BIG_T}), layout={layout!r}) with "
                     + seeded_text("x", (BIG_T, BIG_DIM), "float32", 11))
    h_pos, w_pos, _ = positions_of(BIG_GRIDS)
    x = seeded_tensor((len(h_pos), BIG_DIM), "float32", 12)
    check_memory(k, "apply_rope_2d", x, (torch.tensor(h_pos), torch.tensor(w_pos)), {},
                 f"apply_rope_2d(x, *patch_positions({BIG_GRIDS})[:2]) with "
                 + seeded_text("x", (len(h_pos), BIG_DIM), "float32", 12))
