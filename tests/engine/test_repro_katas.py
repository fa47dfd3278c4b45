"""Every kata: a failing mutant's reproduction script exits 1 on the mutant and 0 on the reference.

One mutant and one property per kata (run alone, `only=`), so the test stays cheap.
"""
import subprocess
import sys

import pytest

from checker import runner
from checker.catalog import Catalog

# kata: (mutant, property whose failure it reproduces)
CASES = {
    "lca": ("assumes_bst", "random_shapes"),
    "merge_sorted": ("forward_overwrite", "merges"),
    "online_softmax": ("drops_ragged_block", "softmax_values"),
    "flash_attention": ("backward_dk_unscaled", "backward_values"),
    "packing": ("unpad_column_major", "unpad_matches_reference"),
    "checkpointing": ("drops_remainder", "output_matches_plain"),
    "coupling": ("additive_inverse_adds", "roundtrip"),
    "robbins_monro": ("wrong_sign", "recursion_exact"),
    "upsampling": ("dcr_channel_order", "pixel_shuffle_exact"),
    "activations": ("gelu_one_plus_erf", "gelu_values"),
    "rope_2d": ("h_w_swapped", "rope_2d_moonvit"),
    "moe_routing": ("capacity_off_by_one", "capacity_priority"),
}

CATALOG = Catalog()


def mutant_file(kata, name, tmp_path):
    from checker.mutants import load_mutants, write_attempt
    mutant = next(m for m in load_mutants(kata) if m.name == name)
    return write_attempt(kata, mutant, tmp_path)


def test_every_kata_has_a_repro_case():
    assert {k.id for k in CATALOG.all()} <= set(CASES), "add a (mutant, property) for the new kata"


@pytest.mark.parametrize("kata_id", sorted(CASES))
def test_repro_fails_on_the_mutant_and_passes_on_the_reference(kata_id, tmp_path):
    kata = CATALOG.get(kata_id)
    name, prop = CASES[kata_id]
    mutant = mutant_file(kata, name, tmp_path)
    result = runner.check(CATALOG, kata, mutant, seed=1, repro=True, only={prop}).properties[0]
    assert not result.passed, f"{name} should fail {prop}"
    assert result.repro, result.repro_note
    script = tmp_path / "repro.py"
    script.write_text(result.repro)
    for target, code in ((mutant, 1), (kata.reference, 0)):
        done = subprocess.run([sys.executable, str(script), str(target)], capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == code, f"{target}: {done.stdout}{done.stderr[-2000:]}"
