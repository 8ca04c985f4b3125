"""Named things of one kind (models, aggregators, dataset adapters, flow methods), each added by
the module that defines it.

A registry belongs to a package. Every module of that package is imported the first time the
registry is read, so adding a thing is one new module in the package with one registration::

    # reid/models/aggregators/max.py
    from reid.models.aggregators import AGGREGATORS

    @AGGREGATORS.register("max")
    class MaxPooling(nn.Module): ...

No central list or command line is edited: ``--help``, the accepted values and the "unknown
name" errors all read ``names()``. Nothing is imported before that first read, so a command's
start-up does not pay for modules it does not use.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import MutableMapping
from typing import Callable, Generic, Iterator, TypeVar

from flowreid.errors import UserError

T = TypeVar("T")
_REQUIRED = object()


class Registry(MutableMapping, Generic[T]):
    """``name -> thing`` for one ``kind`` of thing, filled by the modules of ``package``.

    ``error`` is the stage's one-line error raised for an unknown name. It reads like a dict, but
    ``get(name)`` without a default raises that error; ``registry[name] = thing`` registers too
    (tests add throw-away entries with ``monkeypatch.setitem``)."""

    def __init__(self, kind: str, package: str, error: type[UserError] = UserError):
        self.kind = kind
        self.package = package
        self.error = error
        self._things: dict[str, T] = {}
        self._discovered = False

    def register(self, name: str | None = None) -> Callable[[T], T]:
        """Decorator registering a class or function as ``name`` (default: its ``name`` attribute)."""

        def add(thing: T) -> T:
            self[name if name is not None else thing.name] = thing
            return thing

        return add

    def names(self) -> list[str]:
        """The registered names, sorted: what help texts and errors list."""
        self._discover()
        return sorted(self._things)

    def get(self, name: str, default=_REQUIRED):
        """The thing registered as ``name``; for an unknown name ``default`` if given, else the stage's
        one-line error listing the known names."""
        self._discover()
        if name in self._things:
            return self._things[name]
        if default is not _REQUIRED:
            return default
        raise self.error(f"unknown {self.kind} {name!r}; known: {', '.join(self.names())}")

    def _discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        package = importlib.import_module(self.package)
        for module in pkgutil.iter_modules(package.__path__):
            if not module.name.startswith("_"):
                importlib.import_module(f"{self.package}.{module.name}")

    def __getitem__(self, name: str) -> T:
        self._discover()
        return self._things[name]

    def __setitem__(self, name: str, thing: T) -> None:
        if self._things.get(name, thing) is not thing:
            raise ValueError(f"{self.kind} {name!r} is registered twice: {self._things[name]!r} and {thing!r}")
        self._things[name] = thing

    def __delitem__(self, name: str) -> None:
        del self._things[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        self._discover()
        return len(self._things)
