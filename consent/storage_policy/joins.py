"""Join paths (C-10): no chain of foreign keys from an answer to a consent record or a person."""

from __future__ import annotations

from collections.abc import Iterable

# --------------------------------------------------------------------------- join paths (C-10)

JoinPath = tuple[str, ...]


def join_paths(
    foreign_keys: Iterable[tuple[str, str]],
    source: str,
    targets: Iterable[str],
    *,
    ignore: Iterable[str] = (),
    max_length: int = 8,
) -> list[JoinPath]:
    """Every join path (over foreign keys, either direction) from ``source`` to a target table.

    The app's schema test passes its foreign keys as ``(table, referenced table)`` pairs and
    asserts that no path leads from the answers to the consent records or to anything that
    identifies a person (C-10, DP-01).  Tables that identify nobody and are shared by many
    rows, such as the consent-text versions both sides may reference, go in ``ignore``: a
    join through a text version links every child who saw it, so it reveals nothing.

    Parameters
    ----------
    foreign_keys : iterable of (table, referenced table)
    source : str
    targets : iterable of str
    ignore : iterable of str
        Tables a path may not pass through.
    max_length : int
        Longest path (in tables) explored.

    Returns
    -------
    list of tuple of str
        Simple paths, shortest first; empty when no join path exists.

    Examples
    --------
    >>> fks = [("answer", "participant"), ("consent_event", "participant"),
    ...        ("participant", "consultation"), ("consent_event", "consent_text"),
    ...        ("participant", "consent_text")]
    >>> join_paths(fks, "answer", ["consent_event"], ignore=["consent_text", "consultation"])
    [('answer', 'participant', 'consent_event')]
    """
    blocked = set(ignore)
    goal = set(targets)
    graph: dict[str, set[str]] = {}
    for a, b in foreign_keys:
        if a == b:
            continue
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set()).add(a)
    found: list[JoinPath] = []
    stack: list[JoinPath] = [(source,)]
    while stack:
        path = stack.pop()
        here = path[-1]
        if here in goal and len(path) > 1:
            found.append(path)
            continue
        if len(path) >= max_length:
            continue
        for nxt in sorted(graph.get(here, ()), reverse=True):
            if nxt in path or (nxt in blocked and nxt not in goal):
                continue
            stack.append(path + (nxt,))
    return sorted(set(found), key=lambda p: (len(p), p))
