"""How alike two submissions are, as MOSS measures it: winnowed k-gram fingerprints of the code
with identifiers, literals, comments and formatting erased.

    normalise -> tokens      every name becomes V, every literal L; comments, blank lines,
                             indentation widths and docstrings vanish; each token keeps its line
    k-grams                  hashes of k consecutive tokens, never spanning two top-level
                             definitions (so reordering functions changes nothing)
    winnowing                the smallest hash of every window of w k-grams (Schleimer, Wilkerson,
                             Aiken 2003): any shared run of w + k - 1 tokens is detected
    stub                     fingerprints of the kata's stub are removed from both sides: the
                             signatures and docstrings every student starts from are not evidence

score = |A ∩ B| / min(|A|, |B|): the share of the smaller submission found in the other, in
[0, 1] (MOSS reports the same share per file). A renamed, reordered, recommented copy scores
about 1; two people's independent solutions share only idioms.
"""
from __future__ import annotations

import hashlib
import io
import keyword
import tokenize
from dataclasses import dataclass

K = 10         # tokens per k-gram: shorter runs are idioms (`for V in V(V):`)
WINDOW = 4     # winnowing window: a shared run of K + WINDOW - 1 = 13 tokens is always caught
_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
         tokenize.ENCODING, tokenize.ENDMARKER}


@dataclass(frozen=True)
class Token:
    text: str
    line: int
    block: int      # index of the top-level statement it belongs to


def normalise(source: str) -> list[Token]:
    """The token stream with names and literals erased; [] for code that does not tokenize."""
    out: list[Token] = []
    block, prev, depth = 0, None, 0
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []
    for i, tok in enumerate(toks):
        if tok.type == tokenize.INDENT:
            depth += 1
        elif tok.type == tokenize.DEDENT:
            depth -= 1
        if tok.type in _SKIP:
            prev = tok.type if tok.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT) else prev
            continue
        if depth == 0 and prev in (None, tokenize.NEWLINE, tokenize.DEDENT) and tok.start[1] == 0:
            block += 1
        if tok.type == tokenize.STRING and prev in (None, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT) \
                and _statement_alone(toks, i):
            prev = tok.type
            continue  # a docstring (or a bare string statement): prose, not code
        if tok.type == tokenize.NAME and not keyword.iskeyword(tok.string):
            text = "V"
        elif tok.type in (tokenize.NUMBER, tokenize.STRING) or tok.type == getattr(tokenize, "FSTRING_START", -1):
            text = "L"
        else:
            text = tok.string
        out.append(Token(text, tok.start[0], block))
        prev = tok.type
    return out


def _statement_alone(toks, i) -> bool:
    nxt = toks[i + 1].type if i + 1 < len(toks) else tokenize.ENDMARKER
    return nxt in (tokenize.NEWLINE, tokenize.ENDMARKER, tokenize.COMMENT)


def _hash(texts) -> int:
    return int.from_bytes(hashlib.blake2b(" ".join(texts).encode(), digest_size=8).digest(), "big")


def fingerprints(source: str) -> dict[int, list[int]]:
    """Winnowed fingerprints: hash -> first lines of the k-grams that carry it."""
    toks = normalise(source)
    grams = []  # (hash, first line, last line)
    for i in range(len(toks) - K + 1):
        run = toks[i:i + K]
        if run[0].block != run[-1].block:
            continue
        grams.append((_hash(t.text for t in run), run[0].line, run[-1].line))
    chosen: dict[int, list[int]] = {}
    if len(grams) <= WINDOW:
        picks = range(len(grams))
    else:
        picks = set()
        for w in range(len(grams) - WINDOW + 1):
            window = grams[w:w + WINDOW]
            low = min(h for h, _, _ in window)
            picks.add(w + max(j for j, (h, _, _) in enumerate(window) if h == low))  # rightmost minimum
    for j in sorted(picks):
        h, first, last = grams[j]
        chosen.setdefault(h, []).append((first, last))
    return chosen


@dataclass
class Match:
    score: float                      # in [0, 1]
    lines_a: list[tuple[int, int]]    # matching fragments' line ranges in a
    lines_b: list[tuple[int, int]]


def compare(a: str, b: str, base: str = "") -> Match:
    """How much of a and b is the same code; fingerprints of `base` (the stub) do not count."""
    return _match(fingerprints(a), fingerprints(b), set(fingerprints(base)) if base else set())


def _match(fa, fb, base_prints) -> Match:
    ka, kb = set(fa) - base_prints, set(fb) - base_prints
    shared = ka & kb
    smaller = min(len(ka), len(kb))
    score = len(shared) / smaller if smaller else 0.0
    return Match(round(score, 3), _ranges(fa, shared), _ranges(fb, shared))


def _ranges(prints, shared) -> list[tuple[int, int]]:
    spans = sorted(span for h in shared for span in prints[h])
    merged: list[list[int]] = []
    for first, last in spans:
        if merged and first <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return [tuple(m) for m in merged]


@dataclass
class Pair:
    kata: str
    a: str
    b: str
    score: float
    lines_a: list[tuple[int, int]]
    lines_b: list[tuple[int, int]]


def class_pairs(kata: str, sources: dict[str, str], stub: str) -> list[Pair]:
    """Every pair of students' submissions of one kata, most similar first."""
    names = sorted(sources)
    prints = {n: fingerprints(sources[n]) for n in names}
    base = set(fingerprints(stub))
    pairs = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            m = _match(prints[a], prints[b], base)
            pairs.append(Pair(kata, a, b, m.score, m.lines_a, m.lines_b))
    return sorted(pairs, key=lambda p: (-p.score, p.a, p.b))


def read_sources(submissions, students, kata, limit=1 << 20) -> dict[str, str]:
    """Each student's file for a kata as text (never run; regular files under `limit` bytes)."""
    import os
    import stat
    out = {}
    for s in students:
        path = os.path.join(submissions, s, f"{kata}.py")
        try:
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode) and st.st_size <= limit:
                with open(path, encoding="utf-8", errors="replace") as f:
                    out[s] = f.read()
        except OSError:
            continue
    return out
