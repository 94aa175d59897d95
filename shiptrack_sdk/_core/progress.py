"""Progress reporting for long work (tour fan-out, draining order messages).

``progress`` arguments across the SDK accept:

* ``None`` or ``False``: no reporting;
* a callable ``(done, total)``: called after each unit of work (``total`` is ``None`` when
  unknown);
* ``True``: a bar on a terminal or in Jupyter when tqdm is installed
  (``pip install "shiptrack-sdk[progress]"``), and nothing otherwise.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["Progress", "ProgressLike"]

ProgressCallback = Callable[[int, "int | None"], Any]
ProgressLike = ProgressCallback | bool | None


class Progress:
    """Counts finished units and reports them; thread-safe; a context manager.

    Args:
        progress: What to report to (see the module's documentation).
        total: How many units there are, if known.
        description: The bar's label.
    """

    def __init__(
        self, progress: ProgressLike, total: int | None = None, *, description: str = ""
    ) -> None:
        self.done = 0
        self.total = total
        self._lock = threading.Lock()
        self._callback: ProgressCallback | None = None
        self._bar: Any = None
        given: Any = progress  # typed callers cannot pass anything else; untyped ones can
        if given is not None and not isinstance(given, bool) and not callable(given):
            from ..errors import ValidationError

            raise ValidationError(
                "progress", f"expected a callable (done, total), True or None, got {progress!r}"
            )
        if callable(progress):
            self._callback = progress
        elif progress is True:
            try:
                with warnings.catch_warnings():
                    # Without ipywidgets, tqdm.auto warns and falls back to a text bar, which
                    # is what a notebook without widgets should get anyway.
                    warnings.simplefilter("ignore")
                    from tqdm.auto import tqdm
            except ImportError:  # the optional extra is not installed: report nothing
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(total=total, desc=description or None, unit="item")

    def set_total(self, total: int) -> None:
        """Set or raise the total once it is known (e.g. after listing a tour)."""
        with self._lock:
            self.total = total
            if self._bar is not None:
                self._bar.total = total
                self._bar.refresh()

    def advance(self, count: int = 1) -> None:
        """Record ``count`` more finished units."""
        with self._lock:
            self.done += count
            done, total = self.done, self.total
            if self._bar is not None:
                self._bar.update(count)
        if self._callback is not None:
            self._callback(done, total)

    def close(self) -> None:
        """Close the bar, if one is shown."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
