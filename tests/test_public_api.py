"""The public surface is declared once, in course_helpers.__all__, and every name resolves."""

from __future__ import annotations

import importlib

import course_helpers


def test_all_matches_exports() -> None:
    assert sorted(course_helpers.__all__) == sorted(course_helpers._EXPORTS)


def test_every_public_name_resolves() -> None:
    for name in course_helpers.__all__:
        module = importlib.import_module(course_helpers._EXPORTS[name])
        assert getattr(course_helpers, name) is getattr(module, name)
