"""Write src/migcheck/rules/_index.py, the rules' metadata as data, from the rule modules.

    python scripts/update_rule_index.py

Run it after adding a rule or changing a rule's id, category, severity, default_enabled,
kinds, min_pg/max_pg or whether it overrides ``slow_work``. tests/test_rules_registry.py
fails while the index disagrees with the modules, so it cannot go stale unnoticed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from migcheck.rules import all_rules, info_of

TARGET = Path(__file__).resolve().parents[1] / "src" / "migcheck" / "rules" / "_index.py"

HEADER = '''"""Every rule's metadata, generated from the rule modules by scripts/update_rule_index.py.

Do not edit by hand. It lets a run select rules, check config and suppressions, and build
meta findings without importing the rule modules; tests/test_rules_registry.py checks that it
equals what the modules say.
"""

from __future__ import annotations

from migcheck.rules._info import RuleInfo

INDEX: dict[str, RuleInfo] = {
'''


def render() -> str:
    lines = [HEADER]
    for info in (info_of(rule) for rule in all_rules().values()):
        kinds = ", ".join(repr(k) for k in sorted(info.kinds))
        kinds_src = f"frozenset({{{kinds}}})" if kinds else "frozenset()"
        covers = ", ".join(repr(k) for k in sorted(info.help_covers))
        covers_src = f"frozenset({{{covers}}})" if covers else "frozenset()"
        lines.append(
            f"    {info.id!r}: RuleInfo(\n"
            f"        {info.id!r},\n"
            f"        {info.category!r},\n"
            f"        {info.severity!r},\n"
            f"        {info.default_enabled!r},\n"
            f"        {kinds_src},\n"
            f"        {info.min_pg!r},\n"
            f"        {info.max_pg!r},\n"
            f"        {info.slow_work!r},\n"
            f"        {covers_src},\n"
            "    ),\n"
        )
    lines.append("}\n")
    return "".join(lines)


if __name__ == "__main__":
    TARGET.write_text(render(), encoding="utf-8")
    # The layout ruff format would give, so the quality check stays clean.
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if Path(ruff).exists():
        subprocess.run([ruff, "format", "--quiet", str(TARGET)], check=False)
    print(f"wrote {TARGET}")
