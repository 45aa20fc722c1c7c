"""A daemon thread that works for a page between its script runs (a run's training, a sweep): started
by its owner, asked whether it is alive, told to stop through an event it reads between steps."""

from __future__ import annotations

import threading


class Background:
    """Subclasses do their work in `_work`, reading `stopped` between steps."""

    def __init__(self, name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)

    def _work(self) -> None:
        raise NotImplementedError

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def stop(self, timeout: float | None = None) -> None:
        """Ask the work to end; with a timeout, wait that long for it to end."""
        self._stop.set()
        if timeout is not None:
            self._thread.join(timeout)

    def wait(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)
