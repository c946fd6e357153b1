"""Regular expressions wait for their first use (``migcheck.lazyre``), so start-up does
not pay for patterns a run never meets; the one pattern every parse needs compiles fast."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from migcheck.lazyre import lazy
from migcheck.sql.tokens import _WORD


def test_the_pattern_compiles_at_first_use_not_before() -> None:
    broken = lazy("(unclosed")  # re.compile would raise here
    with pytest.raises(re.error):
        broken.search("x")


def test_a_lazy_pattern_answers_like_the_compiled_one() -> None:
    flags = re.I | re.S
    pattern = r"alter\s+table\s+(\w+)"
    text = "-- x\nALTER  TABLE a; alter table b;"
    real, later = re.compile(pattern, flags), lazy(pattern, flags)
    assert later.pattern == pattern and later.flags == flags
    assert later.search(text).span() == real.search(text).span()  # type: ignore[union-attr]
    assert later.match(text) is real.match(text) is None
    assert later.match(text, 5).group(1) == "a"  # type: ignore[union-attr]
    assert later.fullmatch("alter table c").group(1) == "c"  # type: ignore[union-attr]
    assert later.findall(text) == ["a", "b"]
    assert [m.span() for m in later.finditer(text)] == [m.span() for m in real.finditer(text)]
    assert later.sub(r"<\1>", text) == real.sub(r"<\1>", text)
    assert later.subn(lambda m: "!", text, 1) == ("-- x\n!; alter table b;", 1)
    assert later.split(text, 1) == real.split(text, 1)
    # After the first use the calls go straight to re: no wrapper left in between.
    assert later.search.__self__ is later.compiled() == real  # type: ignore[attr-defined]


# The spelling this replaced: "\x80-\uffff" next to \w cost re ~5 ms to compile.
_OLD_WORD = re.compile(r"^[A-Za-z_\x80-\uffff][\w$\x80-\uffff]*$")


def test_word_matches_exactly_the_characters_it_did() -> None:
    # Every BMP code point (where the two spellings could part: ASCII, surrogates, the
    # \uffff edge), and astral ones from the edge on, a letter and a symbol included.
    astral = [*range(0x10000, sys.maxunicode + 1, 97), sys.maxunicode, 0x1D400, 0x1F600]
    every = [chr(cp) for cp in [*range(0x10000), *astral]]
    for form in ("{}", "a{}", "_{}x"):
        texts = [form.format(c) for c in every]
        assert [t for t in texts if _WORD.match(t)] == [t for t in texts if _OLD_WORD.match(t)]
    # Near misses at the edges: astral letters may follow but never start a word.
    assert _WORD.match("a\U0001d400") and not _WORD.match("\U0001d400")
    assert _WORD.match("caf\u00e9$1") and not _WORD.match("1abc") and not _WORD.match("a-b")


# Modules whose patterns are compiled at import on purpose: every run uses them.
_EAGER = {"migcheck.model", "migcheck.quoting", "migcheck.sql.tokens"}
# Areas whose every module must compile nothing at import.
_LAZY_AREAS = ("migcheck.sql", "migcheck.dynamic", "migcheck.rules", "migcheck.report",
               "migcheck.pgcatalog", "migcheck.flyway", "migcheck.suppress",
               "migcheck.sources.sqldir", "migcheck.sources.prisma",
               "migcheck.sources.diesel")  # fmt: skip

_RECORD = """
import re._compiler as rc, sys, json, importlib, pkgutil, runpy
original, found = rc.compile, set()
def record(pattern, flags=0):
    frame = sys._getframe(1)
    while frame.f_globals.get("__name__", "").startswith("re"):
        frame = frame.f_back
    name = frame.f_globals.get("__name__", "")
    if frame.f_code.co_name == "<module>" and name.startswith("migcheck"):
        found.add(name)
    return original(pattern, flags)
rc.compile = record
if sys.argv[1] == "run":
    sys.argv = ["migcheck", *sys.argv[2:]]
    try:
        runpy.run_module("migcheck", run_name="__main__")
    except SystemExit:
        pass
else:
    import migcheck
    for mod in pkgutil.walk_packages(migcheck.__path__, "migcheck."):
        if mod.name.startswith(tuple(sys.argv[2:])):
            importlib.import_module(mod.name)
sys.stderr.write("\\nCOMPILED " + json.dumps(sorted(found)))
"""


def _compiled_at_import(args: list[str], cwd: Path) -> set[str]:
    import json
    import os

    env = {**os.environ, "MIGCHECK_NO_CACHE": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", _RECORD, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "\nCOMPILED " in proc.stderr, proc.stderr
    return set(json.loads(proc.stderr.rsplit("\nCOMPILED ", 1)[1]))


def test_a_cold_run_compiles_at_import_only_the_patterns_every_run_uses(tmp_path: Path) -> None:
    (tmp_path / "001_index.sql").write_text(
        "CREATE TABLE t (id int);\nCREATE INDEX t_id ON t (id);\n", encoding="utf-8"
    )
    compiled = _compiled_at_import(["run", "001_index.sql"], tmp_path)
    assert "migcheck.sql.tokens" in compiled  # the probe sees what it should
    assert compiled <= _EAGER


def test_no_module_of_the_lazy_areas_compiles_a_pattern_at_import(tmp_path: Path) -> None:
    compiled = _compiled_at_import(["import", *_LAZY_AREAS], tmp_path)
    assert compiled - _EAGER == set(), "use migcheck.lazyre.lazy for module-level patterns"
