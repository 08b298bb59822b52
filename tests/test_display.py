"""Tests for course_helpers.display: the stream view, the progress bar and the timing plot."""

from __future__ import annotations

import asyncio
import doctest
import io
from collections.abc import Callable

import pytest

from course_helpers import display
from course_helpers.display import Progress, StreamView, plot_stream_timing
from course_helpers.tokens import estimate_tokens


def ticking(*times: float) -> Callable[[], float]:
    """A clock that returns ``times`` in order (one per call)."""
    values = iter(times)
    return lambda: next(values)


def test_module_doctest_runs() -> None:
    result = doctest.testmod(display)
    assert result.attempted > 0
    assert result.failed == 0


# ---------------------------------------------------------------------------------- StreamView


def test_fallback_prints_pieces_as_they_arrive_and_measures_times() -> None:
    out = io.StringIO()
    # start at 10.0; pieces at 10.5, 10.75, 11.5; finish at 12.0
    view = StreamView(live=False, clock=ticking(10.0, 10.5, 10.75, 11.5, 12.0), out=out)
    for piece in ["Hello", None, "", ", world", "!"]:
        view.feed(piece)
    assert out.getvalue() == "Hello, world!"
    assert not view.done
    view.finish()
    assert view.text == "Hello, world!"
    assert view.arrivals == pytest.approx([0.5, 0.75, 1.5])
    assert view.ttft == pytest.approx(0.5)
    assert view.total == pytest.approx(2.0)
    assert view.done
    assert view.tokens == estimate_tokens("Hello, world!")
    assert view.tokens_per_second == pytest.approx(view.tokens / 1.5)
    assert out.getvalue().endswith(
        "\n(first token after 0.500 s · total 2.000 s · "
        f"{view.tokens / 1.5:.0f} tokens/s · 13 chars)\n"
    )


def test_finish_keeps_the_first_total() -> None:
    view = StreamView(live=False, clock=ticking(0.0, 1.0, 2.0, 5.0), out=io.StringIO())
    view.feed("a")
    view.finish()
    view.finish()
    assert view.total == pytest.approx(2.0)


def test_speed_needs_two_pieces_and_no_text_is_reported() -> None:
    out = io.StringIO()
    view = StreamView(live=False, clock=ticking(0.0, 1.0), out=out)
    assert view.tokens == 0
    assert view.tokens_per_second is None
    view.finish()
    assert view.ttft is None
    assert "no text received" in out.getvalue()


def test_context_manager_restarts_the_clock_and_finishes() -> None:
    out = io.StringIO()
    # created at 0.0; entered at 100.0; one piece at 100.25; exit at 101.0
    view = StreamView("OpenAI", live=False, clock=ticking(0.0, 100.0, 100.25, 101.0), out=out)
    with view:
        view.feed("Hi")
    assert view.ttft == pytest.approx(0.25)
    assert view.total == pytest.approx(1.0)
    assert out.getvalue().startswith("[OpenAI]\nHi\n(first token after 0.250 s")


def test_start_forgets_previous_text() -> None:
    view = StreamView(live=False, clock=ticking(0.0, 1.0, 2.0, 3.0), out=io.StringIO())
    view.feed("old")
    view.finish()
    view.start()
    assert (view.text, view.arrivals, view.total, view.done) == ("", [], None, False)


def test_repr_is_short_and_deterministic() -> None:
    view = StreamView(live=False, out=io.StringIO())
    assert repr(view) == "StreamView(chars=0, done=False)"
    titled = StreamView("Claude", live=False, out=io.StringIO())
    titled.feed("abc")
    titled.finish()
    assert repr(titled) == "StreamView('Claude', chars=3, done=True)"
    assert titled._repr_mimebundle_() == {"text/plain": repr(titled)}


class FakeDisplay:
    """IPython's display() as a kernel would see it: the outputs and every in-place update."""

    def __init__(self) -> None:
        self.outputs: list[object] = []
        self.updates: list[dict[str, str]] = []

    def __call__(self, obj: object, *, raw: bool = False, display_id: bool = False) -> object:
        self.outputs.append(obj)
        return self if display_id else None

    def update(self, bundle: dict[str, str], *, raw: bool = False) -> None:
        self.updates.append(bundle)


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> FakeDisplay:
    import IPython.display

    fake = FakeDisplay()
    monkeypatch.setattr(IPython.display, "display", fake)
    return fake


def test_live_view_appears_on_entry_before_any_text(shown: FakeDisplay) -> None:
    view = StreamView("Claude", live=True, clock=ticking(0.0, 0.0))
    view.__enter__()
    assert len(shown.outputs) == 1  # the live area is on the page before the request is sent
    assert "waiting for the first token" in shown.updates[-1]["text/html"]


def test_live_label_follows_the_text_and_is_throttled(shown: FakeDisplay) -> None:
    # created 0, entered 0; pieces at 0.5, 0.51 (within the refresh), 0.6; finish at 1.0
    view = StreamView(live=True, clock=ticking(0.0, 0.0, 0.5, 0.51, 0.6, 1.0), refresh=0.05)
    with view:
        view.feed("one")
        assert "3 chars" in shown.updates[-1]["text/html"]
        view.feed(" two")
        assert "3 chars" in shown.updates[-1]["text/html"]  # 10 ms later: not redrawn yet
        view.feed(" three")
        assert "13 chars" in shown.updates[-1]["text/html"]
        assert "tokens/s" in shown.updates[-1]["text/html"]
    assert len(shown.updates) == 4  # waiting, first piece, third piece, blank at the end


def test_live_view_wraps_between_words_and_escapes(shown: FakeDisplay) -> None:
    view = StreamView("<b>x</b>", live=True, clock=ticking(0.0, 0.0, 0.5, 2.0))
    with view:
        view.feed("1 < 2 & done")
    html = shown.updates[-2]["text/html"]
    assert "1 &lt; 2 &amp; done" in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert "word-break: normal" in html and "break-all" not in html


def test_finish_blanks_the_live_area_and_shows_a_stable_final_view(shown: FakeDisplay) -> None:
    view = StreamView("<b>x</b>", live=True, clock=ticking(0.0, 0.0, 0.5, 1.0, 2.0))
    with view:
        view.feed("1 < 2")
        view.feed(" & done")
    assert shown.outputs[0] == shown.updates[-1] == {"text/plain": ""}  # nbval sees the blank
    assert shown.outputs[-1] is view
    bundle = view._repr_mimebundle_()
    assert bundle["text/plain"] == "StreamView('<b>x</b>', chars=12, done=True)"
    assert "total 2.000 s" in bundle["text/html"] and "12 chars" in bundle["text/html"]
    assert "tokens/s" not in bundle["text/html"]  # a rate no sanitiser masks


def test_outside_a_kernel_the_default_is_printing(capsys: pytest.CaptureFixture[str]) -> None:
    view = StreamView()
    view.feed("plain text")
    progress = Progress(1)
    progress.advance()
    progress.close()
    assert capsys.readouterr().out.startswith("plain text")
    assert not view.live and progress._box is None


def test_live_view_prints_nothing(capsys: pytest.CaptureFixture[str], shown: FakeDisplay) -> None:
    view = StreamView(live=True)
    view.feed("quiet")
    view.finish()
    assert capsys.readouterr().out == ""


# ---------------------------------------------------------------------------------- Progress


def test_progress_counts_done_and_failed() -> None:
    out = io.StringIO()
    progress = Progress(3, "calls", widgets=False, out=out)
    assert repr(progress) == "Progress(done=0, total=3)"
    progress.advance()
    progress.advance(2, failed=True)
    progress.close()
    assert repr(progress) == "Progress(done=3, total=3, failed=2)"
    assert out.getvalue() == "calls: 3/3 done, 2 failed\n"


def test_progress_track_counts_results_and_reraises() -> None:
    progress = Progress(3, widgets=False, out=io.StringIO())

    async def ok(value: int) -> int:
        await asyncio.sleep(0)
        return value

    async def boom() -> int:
        raise RuntimeError("provider down")

    async def main() -> list[int | BaseException]:
        return await asyncio.gather(
            progress.track(ok(1)),
            progress.track(boom()),
            progress.track(ok(3)),
            return_exceptions=True,
        )

    results = asyncio.run(main())
    assert results[0] == 1 and results[2] == 3
    assert isinstance(results[1], RuntimeError)
    assert (progress.done, progress.failed) == (3, 1)


def test_progress_widget_bar_follows_and_turns_green() -> None:
    progress = Progress(4, "fan-out", widgets=True)
    with progress:
        progress.advance(3)
        assert progress._bar.value == 3
        assert progress._label.value == "3/4 done"
    assert progress._bar.bar_style == "success"
    failing = Progress(2, widgets=True)
    failing.advance(failed=True)
    failing.close()
    assert failing._bar.bar_style == "danger"
    assert failing._repr_mimebundle_()["text/plain"] == "Progress(done=1, total=2, failed=1)"


def test_progress_rejects_negative_total() -> None:
    with pytest.raises(ValueError, match="negative"):
        Progress(-1, widgets=False)


# ---------------------------------------------------------------------------------- plot


def test_plot_marks_first_token_and_total() -> None:
    figure = plot_stream_timing([0.2, 0.3, 0.4], total=0.5)
    assert repr(figure) == "<Figure size 700x300 with 1 Axes>"
    (axes,) = figure.axes
    step, ttft_line, total_line = axes.get_lines()
    assert list(step.get_xdata()) == pytest.approx([0.0, 0.2, 0.3, 0.4])
    assert list(step.get_ydata()) == [0, 1, 2, 3]
    assert list(ttft_line.get_xdata()) == pytest.approx([0.2, 0.2])
    assert list(total_line.get_xdata()) == pytest.approx([0.5, 0.5])
    assert axes.get_xlim()[1] == pytest.approx(0.525)
    assert figure._repr_png_().startswith(b"\x89PNG")


def test_plot_total_defaults_to_last_arrival_and_needs_data() -> None:
    figure = plot_stream_timing([0.1, 0.7], figsize=(4, 2))
    assert repr(figure) == "<Figure size 400x200 with 1 Axes>"
    total_line = figure.axes[0].get_lines()[2]
    assert list(total_line.get_xdata()) == pytest.approx([0.7, 0.7])
    with pytest.raises(ValueError, match="no arrivals"):
        plot_stream_timing([])
