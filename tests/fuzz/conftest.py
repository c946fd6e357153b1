"""Hypothesis profiles of the fuzz campaign, and the seed to rerun a failure with.

``ci`` (the default) is sized so the whole directory runs in about a minute; ``long`` is
the campaign run by hand::

    python -m pytest tests/fuzz --hypothesis-profile=long --hypothesis-show-statistics
    MIGCHECK_FUZZ_PROFILE=long python -m pytest tests/fuzz

``MIGCHECK_FUZZ_EXAMPLES=N`` overrides the example count of either profile. Every run
draws from one seed, shown in the header and on failure: ``--hypothesis-seed=N``
replays it. No example database: the seed is the reproduction, and the checkout stays
clean.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, core, settings

_COMMON = {
    "deadline": None,
    "database": None,
    "print_blob": True,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
}
_EXAMPLES = os.environ.get("MIGCHECK_FUZZ_EXAMPLES")
settings.register_profile("ci", max_examples=int(_EXAMPLES) if _EXAMPLES else 150, **_COMMON)
settings.register_profile("long", max_examples=int(_EXAMPLES) if _EXAMPLES else 20_000, **_COMMON)
# --hypothesis-profile (read by Hypothesis's plugin after this file) wins over both.
settings.load_profile(os.environ.get("MIGCHECK_FUZZ_PROFILE", "ci"))
_SEED_KEY = "migcheck_fuzz_seed"


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--hypothesis-seed", None) is None and core.global_force_seed is None:
        # An xdist worker draws from the seed the controller shows in the header.
        seed = getattr(config, "workerinput", {}).get(_SEED_KEY)
        core.global_force_seed = seed if seed is not None else random.randrange(2**32)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    # xdist, in the controller: hand every worker the one seed of this run.
    node.workerinput[_SEED_KEY] = core.global_force_seed


def pytest_report_header(config: pytest.Config) -> str:
    return (
        f"migcheck fuzz: profile {settings.get_current_profile_name()!r}, "
        f"seed {core.global_force_seed} (rerun with --hypothesis-seed={core.global_force_seed})"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.when == "call":
        report.sections.append(
            (
                "migcheck fuzz seed",
                f"rerun with: python -m pytest '{item.nodeid}' "
                f"--hypothesis-seed={core.global_force_seed}",
            )
        )


@pytest.fixture(autouse=True, scope="module")
def _no_parse_cache() -> Iterator[None]:
    # A repeated input would come from the cache instead of being read again: the fuzz
    # run must exercise the readers every time (and a cache hit makes a failure flaky).
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MIGCHECK_NO_CACHE", "1")
        yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Selectable as a group: -m fuzz, or -m "not fuzz" for a quick run without them.
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.fuzz)
