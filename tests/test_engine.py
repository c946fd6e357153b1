"""Engine-level behaviour: how migrations are grouped into deploys."""

from __future__ import annotations

from helpers import make_history
from migcheck.engine import Options, _deploys


def test_each_migration_is_its_own_deploy_in_an_audit() -> None:
    h = make_history(["SELECT 1;"] * 3)
    assert _deploys(h, Options()) == [1, 2, 3]


def test_named_files_form_one_deploy_after_the_live_history() -> None:
    h = make_history(["SELECT 1;"] * 4, selected=[False, False, True, True])
    assert _deploys(h, Options()) == [1, 2, 3, 3]


def test_changeset_keeps_one_deploy_across_an_unselected_migration() -> None:
    h = make_history(["SELECT 1;"] * 4, selected=[False, True, False, True])
    deploys = _deploys(h, Options())
    assert deploys[1] == deploys[3]
    assert len({deploys[0], deploys[1], deploys[2]}) == 3


def test_changeset_flag_off_judges_each_named_file_alone() -> None:
    h = make_history(["SELECT 1;"] * 3, selected=[False, True, True])
    assert _deploys(h, Options(changeset=False)) == [1, 2, 3]
