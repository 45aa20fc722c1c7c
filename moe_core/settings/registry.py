"""Registries: each router, balance strategy, dataset and named choice is declared once, as an entry.

An entry holds what the config, the sidebar, the CLI's listings and the tests read (name, label, help,
the options it uses) and where its implementation lives, as "module:attribute". The implementation is
imported on first use, so listing or validating names never imports torch.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from moe_core.errors import ConfigError, did_you_mean


@dataclass(frozen=True)
class Entry:
    name: str  # the value in a config file, e.g. "topk"
    label: str  # a few words for the sidebar
    help: str = ""  # one line: what it does, and where it comes from
    impl: Any = None  # "module:attribute", or the object itself (a notebook's own router, say)
    uses: frozenset[str] = frozenset()  # option keys that apply when this entry is chosen
    # (option key, why) for options it does not use where "not used" would mislead ("set by the file's rows")
    why_unused: tuple[tuple[str, str], ...] = ()

    def implementation(self) -> Any:
        """The implementation: the class or function this entry names."""
        if not isinstance(self.impl, str):
            return self.impl
        module, _, attribute = self.impl.partition(":")
        return getattr(importlib.import_module(module), attribute)


E = TypeVar("E", bound=Entry)


class Registry(Generic[E]):
    """Entries by name, in declaration order; `key` is the option that chooses among them."""

    def __init__(self, key: str, entries: Iterable[E] = ()) -> None:
        self.key = key
        self._entries: dict[str, E] = {}
        for entry in entries:
            self.register(entry)

    def register(self, entry: E) -> E:
        """Add an entry (a new router, say); its name must be new."""
        if entry.name in self._entries:
            raise ValueError(f"{self.key} '{entry.name}' is registered already")
        self._entries[entry.name] = entry
        return entry

    def unregister(self, name: str) -> None:
        del self._entries[name]

    def __getitem__(self, name: str) -> E:
        return self.get(name, self.key)

    def get(self, name: str, key: str) -> E:
        """The entry, or ConfigError naming `key` (another option choosing from the same registry)."""
        if name not in self._entries:
            raise ConfigError(
                f"{key} '{name}' is unknown{did_you_mean(str(name), self)}; choose one of {', '.join(self)}."
            )
        return self._entries[name]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> list[E]:
        return list(self._entries.values())

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)
