"""Fixtures for the Alembic source tests.

The helpers live in ``alembic_helpers.py`` (a name no other test directory uses); this
directory is put on ``sys.path`` so they import the same way under any pytest import mode.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from alembic_helpers import Tree


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    return Tree(tmp_path / "project")
