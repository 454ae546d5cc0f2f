"""A daemon thread started on first use, for the database's helper threads (writer, checkpoints)."""

from __future__ import annotations

import threading
from collections.abc import Callable


class OnDemandThread:
    """Runs `target` on a daemon thread from the first `ensure_started` on; again after it has ended, and in
    a forked child, which sees its parent's thread as not alive."""

    def __init__(self, target: Callable[[], None], name: str) -> None:
        self._target = target
        self._name = name
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def ensure_started(self) -> None:
        if self.running:
            return
        with self._lock:
            if not self.running:
                self._thread = threading.Thread(target=self._target, name=self._name, daemon=True)
                self._thread.start()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
