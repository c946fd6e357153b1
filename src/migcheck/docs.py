"""Rule documentation: find ``rules/<id>.md`` in the wheel or the source checkout.

The wheel ships the repository's ``rules/`` directory as ``migcheck/_docs``; in an
editable install the files are read from the checkout instead.
"""

from __future__ import annotations

import re
from pathlib import Path

_PKG = Path(__file__).resolve().parent


def docs_dir() -> Path | None:
    for candidate in (_PKG / "_docs", _PKG.parent.parent / "rules"):
        if candidate.is_dir():
            return candidate
    return None


def rule_doc(rule_id: str) -> str | None:
    d = docs_dir()
    if d is None:
        return None
    path = d / f"{rule_id}.md"
    return path.read_text(encoding="utf-8") if path.is_file() else None


def code_blocks(doc: str, section: str) -> list[str]:
    """The ```sql blocks under the ``## <section>`` heading of a rule doc."""
    parts = re.split(r"^## +", doc, flags=re.M)
    for part in parts:
        if part.lower().startswith(section.lower()):
            return re.findall(r"```sql\n(.*?)```", part, flags=re.S)
    return []
