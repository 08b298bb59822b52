"""The instructor's grader behind ``python -m course_helpers.grade``.

- ``submissions``: which notebooks, whose they are, which exercise each one is;
- ``pristine``: the private, verified copy of the checks a grading cell imports;
- ``execute``: one notebook in one fresh offline kernel, with nested time limits;
- ``batch``: many notebooks in parallel workers;
- ``report``: rows, CSV, JSON summary, table.
"""
