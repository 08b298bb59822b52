"""The relay's page in a real browser: headless Chromium (Debian's) driven by Playwright.

Needs ``apt-get install chromium`` (``/usr/bin/chromium``) and the ``playwright`` Python package;
Playwright's own browser download (``playwright install``) is never used. The screenshot lands in
``tests/artifacts/server_browser.png``.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import httpx2
import pytest
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI

from course_helpers.client import LLMClient
from course_helpers.fake import FakeProvider
from course_helpers.retry import RetryPolicy
from course_helpers.server import create_app, serve_in_thread

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
]

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed (pip install playwright)"
)
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing: apt-get install -y chromium (Playwright's browsers are unused)",
)


def test_the_page_streams_an_answer_into_view(tmp_path: Path) -> None:
    client = LLMClient(
        "openai",
        openai_client=AsyncOpenAI(api_key="sk-test-browser"),
        anthropic_client=AsyncAnthropic(api_key="sk-ant-test-browser"),
        retry=RetryPolicy(max_attempts=1, deadline=None),
    )
    prompt = "Explain streaming in one paragraph"
    with (
        FakeProvider(ttft=0.2, token_delay=0.03, seed=9),
        serve_in_thread(create_app(client=client)) as server,
        sync_api.sync_playwright() as playwright,
    ):
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        try:
            page = context.new_page()
            page.goto(server.base_url + "/")
            page.fill("#prompt", prompt)
            page.click("#send")
            lengths: list[int] = []
            deadline = time.monotonic() + 30
            while page.text_content("#status") != "Done.":
                assert time.monotonic() < deadline, page.text_content("#status")
                lengths.append(len(page.text_content("#answer") or ""))
                time.sleep(0.02)
            answer = page.text_content("#answer") or ""
            ttft = page.text_content("#ttft") or ""
            meta = page.text_content("#meta") or ""
            ARTIFACTS.mkdir(exist_ok=True)
            screenshot = ARTIFACTS / "server_browser.png"
            page.screenshot(path=str(screenshot), full_page=True)
            print(f"screenshot: {screenshot}")
        finally:
            context.close()
        history = httpx2.get(server.base_url + "/history").json()["exchanges"]

    # The answer grew while it streamed: seen at several distinct, increasing, partial lengths.
    partial = sorted({n for n in lengths if 0 < n < len(answer)})
    assert len(partial) >= 3, lengths
    assert lengths == sorted(lengths)  # it only ever grows
    assert len(answer) > 100
    assert re.fullmatch(r"\d+ ms", ttft), ttft
    assert int(ttft.split()[0]) >= 200  # the simulated provider's time to first token
    assert "relay TTFT" in meta and "exchange" in meta
    row = next(row for row in history if row["prompt"] == prompt)
    assert row["outcome"] == "complete" and row["text"] == answer
    assert row["exchange_id"] in meta
    assert shutil.which(str(CHROMIUM))  # keep the skip reason honest
