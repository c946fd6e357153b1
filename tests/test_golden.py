"""The fixture histories' full JSON report, message and help text included, against the
reviewed copy in tests/golden/fixtures.json.

tests/test_fixtures.py pins where each finding is; this pins what the user reads there, so a
message that names the wrong lock or a help snippet that lost a statement fails here. After a
reviewed change, regenerate with ``python scripts/update_golden.py`` (or
``MIGCHECK_UPDATE_GOLDEN=1``) and read the diff.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import os
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "update_golden", ROOT / "scripts/update_golden.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fixture_report_matches_the_reviewed_golden_file() -> None:
    script = _script()
    got = script.render(script.current())
    if os.environ.get("MIGCHECK_UPDATE_GOLDEN") == "1":
        script.GOLDEN.write_text(got, encoding="utf-8")
    want = script.GOLDEN.read_text(encoding="utf-8")
    if got != want:
        diff = "".join(
            difflib.unified_diff(
                want.splitlines(keepends=True),
                got.splitlines(keepends=True),
                "tests/golden/fixtures.json",
                "migcheck --format json fixtures/",
                n=2,
            )
        )
        raise AssertionError(
            "the fixture report changed; if the change is reviewed and intended, run "
            "`python scripts/update_golden.py`:\n" + diff
        )


def test_every_golden_warning_has_a_message_and_help() -> None:
    """A reviewed golden file cannot carry an empty message, nor a warning or error that
    leaves the user without a way out (info notes may have no help)."""
    data = json.loads(_script().GOLDEN.read_text(encoding="utf-8"))
    assert data["findings"]
    for f in data["findings"]:
        assert f["message"].strip(), f
        assert f["severity"] == "info" or f["help"].strip(), f
