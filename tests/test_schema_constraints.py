"""``Schema.constraints`` keeps a per-table index that must always agree with the map."""

from __future__ import annotations

import random

import pytest

from migcheck.schema import ConstraintInfo, ConstraintMap


def test_the_per_table_index_agrees_with_the_map_through_any_edits() -> None:
    rng = random.Random(7)
    index = ConstraintMap()
    plain: dict[tuple[str, str], ConstraintInfo] = {}
    for step in range(3000):
        key = (rng.choice("abc"), rng.choice("xyzw"))
        action = rng.random()
        if action < 0.5:
            con = ConstraintInfo(f"{key[1]}{step}", "check", key[0])
            index[key] = plain[key] = con
        elif action < 0.75 and key in plain:
            del index[key], plain[key]
        else:
            assert index.pop(key, None) is plain.pop(key, None)
        assert list(index.items()) == list(plain.items())
        for table in "abcd":
            expected = [c for (t, _), c in plain.items() if t == table]
            assert index.on(table) == expected
            assert index.keys_on(table) == [k for k in plain if k[0] == table]
    with pytest.raises(KeyError):
        ConstraintMap().pop(("a", "x"))
    with pytest.raises(TypeError):
        index.update({})
