"""Benchmark ``migcheck server``: the time from an edit (didChange) to its diagnostics
(publishDiagnostics) in a generated 800-migration Prisma history, as an editor sees it
(the server is a subprocess spoken to over stdio by pygls' client). Prints figures only.

    python bench/bench_lsp.py [--migrations 800] [--edits 40]

Rows: opening the middle migration (discovery, parse of the history, replay up to it),
one keystroke in it (re-lints that one file against the saved schema state), and the
same keystroke when a later migration is open too (its schema changed: it is replayed
from the edited file's state and re-linted). The issue's goal: <= 30 ms median.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.lsp_client import Editor, prisma_history  # noqa: E402

SAFE = '\nALTER TABLE "T100" ADD COLUMN "note" TEXT;\n'
UNSAFE = '\nALTER TABLE "T100" DROP COLUMN "name";\n'


async def _edits(ed: Editor, uri: str, text: str, n: int, later: str | None) -> list[float]:
    samples = []
    for i in range(n):
        # Alternate two bodies whose operations differ, so each edit changes the schema
        # the later files see (the worst case for them).
        ed.replace(uri, text + (UNSAFE if i % 2 == 0 else SAFE))
        start = time.perf_counter()
        await ed.diagnostics(uri)
        samples.append(time.perf_counter() - start)
        if later is not None:
            await ed.diagnostics(later)
    return samples


async def bench(
    migrations: int, edits: int, with_later: bool = True
) -> list[tuple[str, list[float]]]:
    """The rows; ``with_later`` False stops after the edited file alone (the table's row)."""
    root = Path(tempfile.mkdtemp(prefix="migcheck-bench-lsp-"))
    paths = prisma_history(root, migrations)
    middle = paths[len(paths) // 2 + 1]
    ed = Editor(root)
    await ed.start()
    uri = ed.open(middle)
    start = time.perf_counter()
    await ed.diagnostics(uri)
    opened = [time.perf_counter() - start]
    text = middle.read_text()
    await _edits(ed, uri, text, 4, None)  # warm-up
    alone = await _edits(ed, uri, text, edits, None)
    if not with_later:
        await ed.stop()
        return [
            (f"open migration {len(paths) // 2 + 2} of {migrations} (cold server)", opened),
            ("didChange -> publishDiagnostics (the edited file)", alone),
        ]
    later_uri = ed.open(paths[-1])
    await ed.diagnostics(later_uri)
    with_later = await _edits(ed, uri, text, edits, later_uri)
    await ed.stop()
    return [
        (f"open migration {len(paths) // 2 + 2} of {migrations} (cold server)", opened),
        ("didChange -> publishDiagnostics (the edited file)", alone),
        ("the same, with the last migration open too (edited file's diagnostics)", with_later),
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--migrations", type=int, default=800)
    ap.add_argument("--edits", type=int, default=40)
    args = ap.parse_args()
    rows = asyncio.run(bench(args.migrations, args.edits))
    width = max(len(name) for name, _ in rows)
    print(f"{'case':<{width}}  median    p90      (goal: edit <= 30 ms median)")
    for name, samples in rows:
        ordered = sorted(samples)
        p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
        median = statistics.median(samples)
        print(f"{name:<{width}}  {median * 1000:6.1f} ms {p90 * 1000:6.1f} ms")


if __name__ == "__main__":
    main()
