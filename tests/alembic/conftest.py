"""Fixtures for the Alembic source tests.

Every revision any of these tests renders without Alembic (``purerender``) is also
rendered with Alembic, and the two must be identical (``pure_equals_alembic``): the
whole suite's revisions are the differential test of the plain-revision renderer.

The helpers live in ``alembic_helpers.py`` (a name no other test directory uses); this
directory is put on ``sys.path`` so they import the same way under any pytest import mode.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from typing import Any

from alembic_helpers import Tree, assert_same_rendering

from migcheck.sources.alembic import load as load_module


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    return Tree(tmp_path / "project")


@pytest.fixture(autouse=True)
def pure_equals_alembic(monkeypatch: pytest.MonkeyPatch) -> None:
    real = load_module.render_pure

    def checked(rev: Any, functions: list[str]) -> Any:
        out = real(rev, functions)
        if out is not None:
            assert_same_rendering(rev, functions, out)
        return out

    monkeypatch.setattr(load_module, "render_pure", checked)
