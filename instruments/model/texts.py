"""Reserved answer codes, and the immutable mappings every text is made of."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar

#: Stored when a child chooses "I'd rather not say" (or skips on purpose).
RATHER_NOT_SAY = "_rns"
#: Stored when a child chooses "I don't know".
DONT_KNOW = "_dk"
#: Codes no choice list may use; expressions treat them as "not answered" in arithmetic.
RESERVED_CODES = frozenset({RATHER_NOT_SAY, DONT_KNOW})
#: The conventional name of the "other" choice (XLSForm ``or_other``).
OTHER = "other"


K = TypeVar("K")
V = TypeVar("V")


class FrozenMap(Mapping[K, V]):
    """An immutable, hashable mapping that compares equal to any equal mapping.

    Examples
    --------
    >>> FrozenMap({"b": 2, "a": 1}) == {"a": 1, "b": 2}
    True
    >>> hash(FrozenMap(a=1)) == hash(FrozenMap({"a": 1}))
    True
    """

    __slots__ = ("_data", "_hash")
    _data: dict[K, V]
    _hash: int | None

    def __init__(self, data: Mapping[K, V] | Iterable[tuple[K, V]] | None = None, /, **kwargs: V) -> None:
        merged: dict[Any, V] = dict(data or {}, **kwargs)
        object.__setattr__(self, "_data", merged)
        object.__setattr__(self, "_hash", None)

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            computed = hash(frozenset((k, v) for k, v in self._data.items()))
            object.__setattr__(self, "_hash", computed)
            return computed
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self._data) == dict(other)
        return NotImplemented

    def __setattr__(self, name: str, value: object) -> None:  # pragma: no cover - immutability guard
        raise AttributeError("FrozenMap is immutable")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"

    def to_dict(self) -> dict[K, V]:
        """A plain ``dict`` copy."""
        return dict(self._data)


class Text(FrozenMap[str, str]):
    """Translated text: language code -> string; empty strings are dropped.

    Examples
    --------
    >>> t = Text(en="Hello", fr="Bonjour", ar="")
    >>> t.get_for("fr"), t.get_for("sw", fallback=("en",))
    ('Bonjour', 'Hello')
    >>> sorted(t)
    ['en', 'fr']
    """

    __slots__ = ()

    def __init__(
        self, data: Mapping[str, object] | Iterable[tuple[str, object]] | None = None, /, **kwargs: object
    ) -> None:
        merged: dict[Any, object] = dict(data or {}, **kwargs)
        super().__init__({str(k): str(v) for k, v in merged.items() if v not in (None, "")})

    def get_for(self, lang: str | None, fallback: Iterable[str | None] = ()) -> str | None:
        """The text in ``lang``, else in the first fallback language that has it."""
        for code in (lang, *fallback):
            if code is not None and code in self:
                return self[code]
        return None


def _text(value: Mapping[str, object] | None) -> Text:
    if isinstance(value, Text):
        return value
    return Text(value or {})


def _bandmap(value: Mapping[str, Mapping[str, object]] | None) -> FrozenMap[str, Text]:
    return FrozenMap({str(k): _text(v) for k, v in (value or {}).items() if v})
