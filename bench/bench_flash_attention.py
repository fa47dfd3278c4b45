"""Time and peak memory of the flash_attention reference vs naive attention and torch SDPA.

    python bench/bench_flash_attention.py                # N = 4096, d = 64, one head, float32
    python bench/bench_flash_attention.py --n 2048 --block-q 128 --block-k 256 --threads 2

Each variant runs in a fresh subprocess: the child builds the inputs, warms up once, measures one
call with checker.probes.PeakMemory (the instrument the suite's peak_memory property uses: bytes
resident at the call's peak above its start, whichever library holds them), then times `--repeat`
calls (median). Forward only (the kata's memory contract is about the score matrix).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

from torch_options import parse_options  # bench/, the script's folder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHILD = r"""
import json, math, statistics, sys, time, importlib.util
import torch
cfg = json.loads(sys.argv[1])
sys.path.insert(0, cfg["root"])
from checker.probes import PeakMemory
torch.set_num_threads(cfg["threads"])
torch.manual_seed(0)
n, d = cfg["n"], cfg["d"]
q, k, v = (torch.randn(1, 1, n, d) for _ in range(3))

def naive(q, k, v):
    s = (q @ k.transpose(-1, -2)) / math.sqrt(d)
    return torch.softmax(s, dim=-1) @ v

def sdpa(q, k, v):
    return torch.nn.functional.scaled_dot_product_attention(q, k, v)

spec = importlib.util.spec_from_file_location("ref", cfg["reference"])
ref = importlib.util.module_from_spec(spec); spec.loader.exec_module(ref)
def reference(q, k, v):
    return ref.flash_attention(q, k, v, block_q=cfg["block_q"], block_k=cfg["block_k"])[0]

fn = {"naive": naive, "sdpa": sdpa, "reference": reference}[cfg["variant"]]
out = fn(q, k, v)                                           # warm-up
del out
with PeakMemory() as probe:
    out = fn(q, k, v)
peak = probe.result()["peak_bytes"]
times = []
for _ in range(cfg["repeat"]):
    t0 = time.perf_counter(); out = fn(q, k, v); times.append(time.perf_counter() - t0)
err = float((out - naive(q, k, v)).abs().max()) if cfg["variant"] != "naive" and n <= 4096 else 0.0
print(json.dumps({"seconds": statistics.median(times), "peak_mib": peak / 2**20, "max_err": err}))
"""


def run(variant, args):
    cfg = dict(variant=variant, n=args.n, d=args.d, block_q=args.block_q, block_k=args.block_k,
               repeat=args.repeat, threads=args.threads, root=ROOT,
               reference=os.path.join(ROOT, "solutions/flash_attention/reference.py"))
    res = subprocess.run([sys.executable, "-c", CHILD, json.dumps(cfg)], capture_output=True, text=True,
                         check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main():
    args = parse_options(__doc__, n=4096, d=64, block_q=128, block_k=512, repeat=5)
    rows = {v: run(v, args) for v in ("naive", "sdpa", "reference")}
    print(f"N = {args.n}, d = {args.d}, float32, 1 head; reference blocks {args.block_q} x {args.block_k}; "
          f"torch threads = {args.threads}; median of {args.repeat}")
    print(f"{'variant':<10} {'time (ms)':>10} {'peak extra (MiB)':>17} {'max |err| vs naive':>19}")
    for name, r in rows.items():
        print(f"{name:<10} {r['seconds'] * 1e3:>10.1f} {r['peak_mib']:>17.1f} {r['max_err']:>19.2e}")
    ref, naive, sdpa = rows["reference"], rows["naive"], rows["sdpa"]
    print(f"reference peak / naive peak = {ref['peak_mib'] / max(naive['peak_mib'], 1e-9):.3f} (goal ≤ 0.125); "
          f"reference time / SDPA time = {ref['seconds'] / sdpa['seconds']:.2f} (goal ≤ 3)")


if __name__ == "__main__":
    main()
