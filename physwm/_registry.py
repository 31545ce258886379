"""A small name -> object registry (layer L0: stdlib and physwm's own errors only)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from physwm._errors import ArgumentTypeError, ArgumentValueError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps one canonical name to each registered object.

    Args:
        kind: what the registry holds, used in error messages (e.g. ``"method"``).

    Raises:
        ValueError: on an unknown name (the message lists the valid names) or a name taken twice.
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T) -> T:
        if name in self._items:
            raise ArgumentValueError(f"{self.kind} {name!r} is already registered")
        self._items[name] = item
        return item

    def get(self, name: str) -> T:
        if not isinstance(name, str):
            raise ArgumentTypeError(f"`{self.kind}` must be a registered name (a str), got {type(name).__name__} {name!r}")
        try:
            return self._items[name]
        except KeyError:
            valid = ", ".join(sorted(self._items))
            raise ArgumentValueError(f"unknown `{self.kind}` {name!r}; expected one of: {valid}") from None

    def names(self) -> list[str]:
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)
