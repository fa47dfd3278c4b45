"""Mutants as declared edits: parsing, applying, and loud failures when an edit no longer fits."""
import pytest

from checker.catalog import Catalog
from checker.mutants import Edit, MutantError, apply_edits, diff, load_mutants, materialise
from tests.conftest import FIXTURES


def test_edits_apply_in_order():
    assert apply_edits("a = 1\nb = a\n", [Edit("a = 1", "a = 2"), Edit("b = a", "b = -a")]) == "a = 2\nb = -a\n"


@pytest.mark.parametrize("text, why", [("x = 1\n", "does not occur"), ("a = 1\na = 1\n", "occurs 2 times")])
def test_an_edit_must_match_exactly_once(text, why):
    with pytest.raises(MutantError, match=why):
        apply_edits(text, [Edit("a = 1", "a = 2")], where="toy mutant 'm': ")


def _kata_with(tmp_path, manifest):
    import shutil
    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "root", root)
    (root / "solutions/toy/mutants.toml").write_text(manifest)
    return Catalog(root).get("toy")


def test_fixture_mutants_load_and_materialise():
    toy = Catalog(FIXTURES / "root").get("toy")
    by_name = {m.name: m for m in load_mutants(toy)}
    assert set(by_name) == {"off_by_one", "adds_twice"}
    assert by_name["off_by_one"].is_rewrite and by_name["adds_twice"].killed_by == ("adds",)
    assert "return a + a" in materialise(toy, by_name["adds_twice"])
    shown = diff(toy, by_name["adds_twice"])
    assert "-    return a + b" in shown and "+    return a + a" in shown


@pytest.mark.parametrize("manifest, why", [
    ('[[mutant]]\nname = "x"\nmistake = "m"\nkilled_by = ["adds"]\n', "either `edits` or `file`"),
    ('[[mutant]]\nname = "x y"\nmistake = "m"\nkilled_by = ["adds"]\nfile = "a.py"\n', "identifier"),
    ('[[mutant]]\nname = "x"\nmistake = ""\nkilled_by = ["adds"]\nfile = "a.py"\n', "one line"),
    ('[[mutant]]\nname = "x"\nmistake = "m"\nkilled_by = []\nfile = "a.py"\n', "killed_by"),
    ('[[mutant]]\nname = "x"\nmistake = "m"\nkilled_by = ["adds"]\nfile = "../../x.py"\n', "inside"),
    ('[[mutant]]\nname = "x"\nmistake = "m"\nkilled_by = ["adds"]\nfile = "a.py"\ncolour = 1\n', "unknown keys"),
    ('[[mutant]]\nname = "x"\nmistake = "m"\nkilled_by = ["a"]\nfile = "a.py"\n'
     '[[mutant]]\nname = "x"\nmistake = "m"\nkilled_by = ["a"]\nfile = "a.py"\n', "used twice"),
    ('[[mutant]\n', "mutants.toml"),
    ('[[mutant]]\nname = "x"\nmistake = "m"\nkilled_by = ["a"]\nbase = "nope"\nedits = [{ old = "a", new = "b" }]\n',
     "'nope' is not a mutant"),
    ('[[mutant]]\nname = "x"\nmistake = "m"\nkilled_by = ["a"]\nbase = "y"\nedits = [{ old = "a", new = "b" }]\n'
     '[[mutant]]\nname = "y"\nmistake = "m"\nkilled_by = ["a"]\nbase = "x"\nedits = [{ old = "a", new = "b" }]\n',
     "loop"),
    ('[[mutant]]\nname = "x"\nmistake = "m"\nkilled_by = ["a"]\nbase = "x"\nedits = [{ old = "a", new = "b" }]\n',
     "another mutant"),
    ('[[mutant]]\nname = "x"\nmistake = "m"\nkilled_by = ["a"]\nbase = "y"\nfile = "a.py"\n', "goes with `edits`"),
])
def test_malformed_manifests_are_refused_with_the_reason(tmp_path, manifest, why):
    with pytest.raises(MutantError, match=why):
        load_mutants(_kata_with(tmp_path, manifest))


def test_a_mutant_can_be_an_edit_of_another_mutant(tmp_path):
    """A cheat variant (the same mistake, plus hiding from a meter) is written as edits of the
    mistake's mutant; its diff is still shown against the reference."""
    manifest = (FIXTURES / "root/solutions/toy/mutants.toml").read_text() + (
        '\n[[mutant]]\nname = "adds_twice_loudly"\nmistake = "m"\nkilled_by = ["adds"]\n'
        'base = "adds_twice"\nedits = [{ old = "return a + a", new = "print(a)\\n    return a + a" }]\n')
    toy = _kata_with(tmp_path, manifest)
    variant = {m.name: m for m in load_mutants(toy)}["adds_twice_loudly"]
    assert "print(a)\n    return a + a" in materialise(toy, variant)
    assert "-    return a + b" in diff(toy, variant)
    broken = _kata_with(tmp_path / "2", manifest.replace('old = "return a + a", new = "print',
                                                         'old = "return a + b", new = "print'))
    variant = {m.name: m for m in load_mutants(broken)}["adds_twice_loudly"]
    with pytest.raises(MutantError, match="does not occur in mutant 'adds_twice'"):
        materialise(broken, variant)
