# The kernel profile used when the course's notebooks are executed for testing (make test,
# tools/build_notebooks.py): ipykernel 7 logs a warning about unencrypted TCP transport at start-up,
# and where that line lands among the cells' outputs varies run to run, which nbval would report.
c = get_config()  # noqa: F821
c.IPKernelApp.log_level = "ERROR"
