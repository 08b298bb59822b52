"""Notebook displays: a live view of a stream, a progress bar for async fan-out, a timing plot.

>>> import io
>>> view = StreamView("demo", live=False, out=io.StringIO())
>>> with view:
...     for piece in ["Hello", ", ", "world"]:
...         view.feed(piece)
>>> view
StreamView('demo', chars=12, done=True)

What nbval compares stays deterministic: ``StreamView``'s live area ends blank (its updates are
not compared) and its final view holds durations, which the sanitiser masks, and counts; the
``Progress`` widget's ``text/plain`` repr is ``Progress(done=0, total=20)``. Outside a Jupyter
kernel ``StreamView`` prints the text as it arrives and ``Progress`` (without ipywidgets too)
prints one line when it closes.
"""

from __future__ import annotations

import html
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Self, TextIO, TypeVar

from course_helpers.tokens import estimate_tokens

if TYPE_CHECKING:
    from course_helpers.plots import Figure

__all__ = ["Progress", "StreamView", "plot_stream_timing"]

T = TypeVar("T")
Bundle = dict[str, Any]


def _widgets_available() -> bool:
    """ipywidgets is installed and we run in a Jupyter kernel (a terminal cannot show widgets)."""
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None


def _show(obj: object) -> None:
    from IPython.display import display

    display(obj)  # type: ignore[no-untyped-call]


def _in_kernel() -> bool:
    """We run in a Jupyter kernel, whose page can show HTML that is updated in place."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None


_BLANK: Bundle = {"text/plain": ""}
# Text wraps at spaces, never inside a word (JupyterLab's own <pre> style breaks anywhere).
_TEXT_STYLE = (
    "white-space: pre-wrap; word-break: normal; overflow-wrap: break-word; "
    "font-family: var(--jp-code-font-family, monospace); margin-top: 0.3em"
)


class StreamView:
    """A live view of a streamed answer: the text as it grows, time to first token, tokens/s.

    Use it as a context manager (shown on entry, finished on exit), or call ``show()``,
    ``feed(text)`` for each piece and ``finish()``. Times are seconds since the view started
    (creation, or entering ``with``): start it just before sending the request.

    In a kernel (``live``) it is HTML updated in place through a display id, at most every
    ``refresh`` seconds: update messages reach the page at once, whereas an ipywidget waits for
    the page to ask the kernel for its state, which a kernel busy with the stream answers only
    after the cell. ``finish()`` blanks the live area and displays the final view after it.
    """

    def __init__(
        self,
        title: str = "",
        *,
        live: bool | None = None,
        clock: Callable[[], float] = time.perf_counter,
        out: TextIO | None = None,
        refresh: float = 0.05,
    ) -> None:
        self.title = title
        self.text = ""
        self.arrivals: list[float] = []
        """Seconds from the start to each non-empty piece."""
        self.total: float | None = None
        """Seconds from the start to ``finish()``."""
        self._clock = clock
        self._out = out
        self._started = clock()
        self.live = _in_kernel() if live is None else live
        self.refresh = refresh
        self._handle: Any = None  # the live area's DisplayHandle, from show() to finish()
        self._refreshed_at = 0.0

    @property
    def done(self) -> bool:
        """Whether ``finish()`` ran."""
        return self.total is not None

    @property
    def ttft(self) -> float | None:
        """Time to first token: seconds from the start to the first non-empty piece."""
        return self.arrivals[0] if self.arrivals else None

    @property
    def tokens(self) -> int:
        """Tokens received so far (the course's approximate tokenizer)."""
        return estimate_tokens(self.text) if self.text else 0

    @property
    def tokens_per_second(self) -> float | None:
        """Output speed after the first token; ``None`` until two pieces have arrived."""
        if len(self.arrivals) < 2:
            return None
        end = self.total if self.total is not None else self.arrivals[-1]
        spent = end - self.arrivals[0]
        return self.tokens / spent if spent > 0 else None

    def start(self) -> Self:
        """Restart the clock (and forget any text): call it just before sending the request."""
        self.text, self.arrivals, self.total = "", [], None
        self._started = self._clock()
        if self._handle is not None:
            self._update()
        return self

    def show(self) -> Self:
        """Display the live area now (outside a kernel: print the title, if any)."""
        if self.live:
            from IPython.display import display

            self._handle = display(_BLANK, raw=True, display_id=True)  # type: ignore[no-untyped-call]
            self._update()
        elif self.title:
            print(f"[{self.title}]", file=self._stream())
        return self

    def feed(self, text: str | None) -> None:
        """Append one streamed piece (``None`` and ``""`` are ignored, as SDK deltas can be)."""
        if not text:
            return
        now = self._clock() - self._started
        self.arrivals.append(now)
        self.text += text
        if not self.live:
            print(text, end="", file=self._stream(), flush=True)
        elif self._handle is not None and (
            len(self.arrivals) == 1 or now - self._refreshed_at >= self.refresh
        ):
            self._update(now)

    def finish(self) -> None:
        """Mark the stream as complete and record the total time (only the first call counts)."""
        if self.total is None:
            self.total = self._clock() - self._started
        if not self.live:
            print(f"\n({self._stats()})", file=self._stream())
            return
        if self._handle is not None:
            self._handle.update(_BLANK, raw=True)
            self._handle = None
        _show(self)

    def _stream(self) -> TextIO:
        return self._out if self._out is not None else sys.stdout

    def _update(self, now: float = 0.0) -> None:
        self._refreshed_at = now
        self._handle.update({"text/html": self._html(self._stats())}, raw=True)

    def _html(self, stats: str) -> str:
        title = f"<b>{html.escape(self.title)}</b> · " if self.title else ""
        return (
            f"<div>{title}<small>{html.escape(stats)}</small>"
            f'<div style="{_TEXT_STYLE}">{html.escape(self.text)}</div></div>'
        )

    def _stats(self, *, speed: bool = True) -> str:
        if self.ttft is None:
            return "waiting for the first token…" if not self.done else "no text received"
        parts = [f"first token after {self.ttft:.3f} s"]
        if self.total is not None:
            parts.append(f"total {self.total:.3f} s")
        tokens_per_second = self.tokens_per_second
        if speed and tokens_per_second is not None:
            parts.append(f"{tokens_per_second:.0f} tokens/s")
        parts.append(f"{len(self.text)} chars")
        return " · ".join(parts)

    def __enter__(self) -> Self:
        return self.start().show()

    def __exit__(self, *exc_info: object) -> None:
        self.finish()

    def __repr__(self) -> str:
        title = f"{self.title!r}, " if self.title else ""
        return f"StreamView({title}chars={len(self.text)}, done={self.done})"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Bundle:
        """The final view; its HTML leaves out tokens/s, a figure no sanitiser can make stable."""
        bundle: Bundle = {"text/plain": repr(self)}
        if self.live:
            bundle["text/html"] = self._html(self._stats(speed=False))
        return bundle


class Progress:
    """A progress bar for many concurrent calls: ``await asyncio.gather(*map(progress.track, …))``.

    ``track(awaitable)`` awaits it and counts it as done, or as failed if it raised (the exception
    still propagates). Use it as a context manager (shown on entry, closed on exit) or call
    ``show()`` / ``advance()`` / ``close()`` yourself.
    """

    def __init__(
        self,
        total: int,
        description: str = "",
        *,
        widgets: bool | None = None,
        out: TextIO | None = None,
    ) -> None:
        if total < 0:
            raise ValueError(f"total is a number of tasks and cannot be negative, got {total}")
        self.total = total
        self.description = description
        self.done = 0
        self.failed = 0
        self._out = out
        self._box: Any = None
        if _widgets_available() if widgets is None else widgets:
            import ipywidgets

            self._bar = ipywidgets.IntProgress(value=0, min=0, max=max(total, 1))
            self._label = ipywidgets.Label(value=self._text())
            self._box = ipywidgets.HBox([ipywidgets.Label(description), self._bar, self._label])

    def show(self) -> Self:
        """Display the bar in the notebook (without widgets there is nothing to show yet)."""
        if self._box is not None:
            _show(self)
        return self

    def advance(self, n: int = 1, *, failed: bool = False) -> None:
        """Count ``n`` more tasks as finished (``failed=True``: finished with an error)."""
        self.done += n
        if failed:
            self.failed += n
        if self._box is not None:
            self._bar.value = self.done
            self._bar.bar_style = "danger" if self.failed else ""
            self._label.value = self._text()

    async def track(self, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable`` and advance the bar, counting an exception as a failure."""
        try:
            result = await awaitable
        except BaseException:
            self.advance(failed=True)
            raise
        self.advance()
        return result

    def close(self) -> None:
        """Finish: the bar turns green when nothing failed; without widgets, print the count."""
        if self._box is not None:
            self._bar.bar_style = "danger" if self.failed else "success"
        else:
            prefix = f"{self.description}: " if self.description else ""
            print(prefix + self._text(), file=self._out if self._out is not None else sys.stdout)

    def _text(self) -> str:
        failed = f", {self.failed} failed" if self.failed else ""
        return f"{self.done}/{self.total} done{failed}"

    def __enter__(self) -> Self:
        return self.show()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        failed = f", failed={self.failed}" if self.failed else ""
        return f"Progress(done={self.done}, total={self.total}{failed})"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Bundle:
        bundle: Bundle = self._box._repr_mimebundle_() if self._box is not None else {}
        bundle["text/plain"] = repr(self)
        return bundle


def plot_stream_timing(
    arrivals: Sequence[float],
    total: float | None = None,
    *,
    title: str = "Streaming: text received over time",
    figsize: tuple[float, float] = (7.0, 3.0),
) -> Figure:
    """Pieces received over time, with time to first token and the total time marked.

    ``arrivals`` are the seconds from sending the request to each piece (``StreamView.arrivals``);
    ``total`` defaults to the last arrival. The figure shows itself as a PNG whatever the backend
    (``course_helpers.plots.Figure``) and has a fixed size and dpi, so its text repr
    (``<Figure size 700x300 with 1 Axes>``) is the same on every machine.
    """
    from course_helpers.plots import Figure  # matplotlib is imported only when plotting

    if not arrivals:
        raise ValueError("no arrivals to plot: feed the stream's pieces to a StreamView first")
    end = total if total is not None else arrivals[-1]
    figure = Figure(figsize=figsize, dpi=100, layout="constrained")
    axes = figure.add_subplot()
    counts = range(1, len(arrivals) + 1)
    axes.step([0.0, *arrivals], [0, *counts], where="post", label="pieces received")
    axes.axvline(arrivals[0], color="tab:orange", linestyle="--", label="time to first token")
    axes.axvline(end, color="tab:green", linestyle=":", label="total time")
    axes.axvspan(0.0, arrivals[0], color="tab:orange", alpha=0.1)
    axes.set_xlim(0.0, end * 1.05 if end > 0 else 1.0)
    axes.set_xlabel("seconds since the request was sent")
    axes.set_ylabel("pieces received")
    axes.set_title(title)
    axes.legend(loc="upper left")
    return figure
