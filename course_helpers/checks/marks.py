"""The marks in check panels and quiz verdicts: plain text every font has.

Emoji marks (a green tick, a red cross) show as empty boxes where no emoji font is installed, as
on many Linux desktops and servers; a verdict must never depend on a font.
"""

from __future__ import annotations

__all__ = ["FAILED", "NOTE", "PASSED", "UNANSWERED"]

PASSED = "[pass]"
FAILED = "[FAIL]"
NOTE = "[note]"
UNANSWERED = "[    ]"
