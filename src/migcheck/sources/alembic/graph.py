"""The revision graph: parents, deterministic topological order, heads and merges.

Edges come from ``down_revision`` (a tuple makes a merge revision) and ``depends_on``
(an ordering constraint only). The order starts from the base revisions and keeps each
branch contiguous: after a revision, its children that became ready are taken first, so a
branch is replayed to its end (or to a merge that waits for the other side) before the
next one starts. Ties are broken by file path, then revision id, so the order never
depends on the filesystem.

A broken graph (duplicate id, missing parent, cycle) is reported as ``InputError`` naming
the file; a best-effort order is still returned so other revisions can be checked.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from migcheck.model import InputError

from .revfile import RevisionFile


@dataclass
class Graph:
    order: list[RevisionFile]
    heads: list[str] = field(default_factory=list)
    bases: list[str] = field(default_factory=list)
    merges: list[str] = field(default_factory=list)
    branch_points: list[str] = field(default_factory=list)


def _sort_key(rev: RevisionFile) -> tuple[str, str]:
    return (rev.display, rev.revision)


def _resolve_dependency(
    name: str, by_id: dict[str, RevisionFile], labels: dict[str, str]
) -> str | None:
    if name in by_id:
        return name
    if name in labels:
        return labels[name]
    # Alembic accepts any unambiguous prefix of a revision id in depends_on.
    matches = [rev_id for rev_id in by_id if rev_id.startswith(name)]
    return matches[0] if len(matches) == 1 else None


def _find_cycle(remaining: set[str], parents: dict[str, list[str]]) -> list[str]:
    """One cycle among ``remaining`` (every node left after Kahn's algorithm is on or
    behind a cycle), as a list of ids in parent order, starting at the smallest id."""
    start = min(remaining)
    path: list[str] = []
    index: dict[str, int] = {}
    node = start
    while node not in index:
        index[node] = len(path)
        path.append(node)
        node = min(p for p in parents[node] if p in remaining)
    cycle = path[index[node] :]
    pivot = cycle.index(min(cycle))
    return cycle[pivot:] + cycle[:pivot]


@dataclass
class _Edges:
    """Parent and child lists per revision id (down_revision and depends_on edges), and
    how many children name each revision as their down_revision."""

    parents: dict[str, list[str]]
    children: dict[str, list[str]]
    down_children: dict[str, int]

    def add(self, child: str, parent: str) -> bool:
        if parent in self.parents[child]:
            return False
        self.parents[child].append(parent)
        self.children[parent].append(child)
        return True


def build_graph(revisions: list[RevisionFile]) -> tuple[Graph, list[InputError]]:
    errors: list[InputError] = []
    by_id = _index_revisions(revisions, errors)
    labels = _index_labels(by_id, errors)
    edges = _link(by_id, labels, errors)
    key = {rev_id: _sort_key(rev) for rev_id, rev in by_id.items()}
    order = _topological_order(edges, key)
    remaining = set(by_id) - set(order)
    _report_cycles(remaining, edges.parents, by_id, errors)
    # Best effort: revisions on or behind a cycle go last, in a stable order.
    order.extend(sorted(remaining, key=lambda r: key[r]))

    graph = Graph(order=[by_id[r] for r in order])
    graph.heads = sorted(r for r in order if edges.down_children[r] == 0)
    graph.bases = sorted(r for r in order if not by_id[r].down_revisions)
    graph.merges = [r for r in order if len(by_id[r].down_revisions) > 1]
    graph.branch_points = [r for r in order if edges.down_children[r] > 1]
    return graph, errors


def _index_revisions(
    revisions: list[RevisionFile], errors: list[InputError]
) -> dict[str, RevisionFile]:
    """Revisions by id; a second file with the same id is reported and ignored."""
    by_id: dict[str, RevisionFile] = {}
    for rev in sorted(revisions, key=_sort_key):
        other = by_id.get(rev.revision)
        if other is not None:
            errors.append(
                InputError(
                    rev.display,
                    f"revision id `{rev.revision}` is also used by {other.display}; "
                    "this file is ignored",
                    rev.header_lines.get("revision"),
                )
            )
            continue
        by_id[rev.revision] = rev
    return by_id


def _index_labels(by_id: dict[str, RevisionFile], errors: list[InputError]) -> dict[str, str]:
    """Revision id by branch label; a label used twice keeps its first owner."""
    labels: dict[str, str] = {}
    for rev in sorted(by_id.values(), key=_sort_key):
        for label in rev.branch_labels:
            if label in labels and labels[label] != rev.revision:
                errors.append(
                    InputError(
                        rev.display,
                        f"branch label `{label}` is also used by {by_id[labels[label]].display}",
                        rev.header_lines.get("branch_labels"),
                    )
                )
                continue
            labels[label] = rev.revision
    return labels


def _link(
    by_id: dict[str, RevisionFile], labels: dict[str, str], errors: list[InputError]
) -> _Edges:
    edges = _Edges(
        parents={rev_id: [] for rev_id in by_id},
        children={rev_id: [] for rev_id in by_id},
        down_children=dict.fromkeys(by_id, 0),
    )
    for rev_id, rev in by_id.items():
        for down in rev.down_revisions:
            if down not in by_id:
                errors.append(
                    InputError(
                        rev.display,
                        f"down_revision `{down}` of revision `{rev_id}` names no revision "
                        "in this project",
                        rev.header_lines.get("down_revision"),
                    )
                )
            elif edges.add(rev_id, down):
                edges.down_children[down] += 1
        for dep in rev.depends_on:
            target = _resolve_dependency(dep, by_id, labels)
            if target is None:
                errors.append(
                    InputError(
                        rev.display,
                        f"depends_on `{dep}` of revision `{rev_id}` names no revision or "
                        "branch label in this project",
                        rev.header_lines.get("depends_on"),
                    )
                )
            elif target != rev_id:
                edges.add(rev_id, target)
    return edges


def _topological_order(edges: _Edges, key: dict[str, tuple[str, str]]) -> list[str]:
    """Kahn's algorithm, taking the children of the revision just placed first so each
    branch stays contiguous. Revisions on or behind a cycle are left out."""
    waiting = {rev_id: len(ps) for rev_id, ps in edges.parents.items()}
    heap = [(key[r], r) for r, count in waiting.items() if count == 0]
    heapq.heapify(heap)
    ready = {r for _, r in heap}
    order: list[str] = []
    last: str | None = None
    while ready:
        preferred = [c for c in edges.children[last] if c in ready] if last else []
        if preferred:
            pick = min(preferred, key=lambda r: key[r])
        else:
            while heap[0][1] not in ready:  # lazily drop entries taken as "preferred"
                heapq.heappop(heap)
            pick = heapq.heappop(heap)[1]
        ready.discard(pick)
        order.append(pick)
        last = pick
        for child in edges.children[pick]:
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.add(child)
                heapq.heappush(heap, (key[child], child))
    return order


def _report_cycles(
    remaining: set[str],
    parents: dict[str, list[str]],
    by_id: dict[str, RevisionFile],
    errors: list[InputError],
) -> None:
    """One error per cycle among the revisions the order left out."""
    pending = set(remaining)
    while pending:
        # Drop revisions that only descend from an already reported cycle.
        pruned = True
        while pruned:
            pruned = False
            for rev_id in sorted(pending):
                if not any(p in pending for p in parents[rev_id]):
                    pending.discard(rev_id)
                    pruned = True
        if not pending:
            break
        cycle = _find_cycle(pending, parents)
        pending.difference_update(cycle)
        first = by_id[cycle[0]]
        chain = " → ".join(f"{r} ({by_id[r].display})" for r in [*cycle, cycle[0]])
        errors.append(
            InputError(
                first.display,
                f"the revision graph has a cycle: {chain}",
                first.header_lines.get("down_revision"),
            )
        )
