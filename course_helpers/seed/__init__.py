"""The Python code of the module's sections 4–7, verbatim, so the course can run it and show
exactly what it does (defects included). Do not use in production.

``module-02.txt`` is the module's text, byte for byte (``.txt`` so ``ruff format`` leaves its code
blocks as printed). Each ``.py`` file here holds one of its code blocks below a marker line;
``tests/test_seed_verbatim.py`` fails if any differs. Only imports the module leaves out are added,
above the marker. ``clocked`` is the course's, not the module's: the same code on a clock you
choose, for tests and the exercise checks.
"""
