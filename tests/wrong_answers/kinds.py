"""The shapes of the answer tables."""

from __future__ import annotations

from typing import Any

Wrong = tuple[str, Any, list[str]]
"""(what the answer gets wrong, the answer, the checks that must catch it)"""

Right = tuple[str, Any]
"""(how this correct answer differs from the solution, the answer)"""

Demo = tuple[str, str, list[str]]
"""(the demo's name in the solution notebook, what it gets wrong, the checks that catch it)"""
