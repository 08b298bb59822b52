"""Module 2, section 7, "Logging and Monitoring": ``logged_completion``, verbatim.

Nothing is added. The block uses ``uuid`` without importing it (notebook 07 shows the
``NameError``, then a fixed version) and reads the module's global ``client``, left undefined here
as in the block: assign ``logged.client`` first. Importing this file runs the block's
``logging.basicConfig(level=logging.INFO)``, as the module does. Do not use in production: see
``course_helpers.usage.configure_logging``.
"""

# ruff: noqa
# mypy: ignore-errors
# fmt: off
# ---- the module's code, verbatim, from the next line to the end of the file ----
import logging
import time

logging.basicConfig(level=logging.INFO)
logger = logging.getLogger(__name__)

def logged_completion(messages, **kwargs):
    start = time.time()
    request_id = str(uuid.uuid4())[:8]

    logger.info(f"[{request_id}] Starting LLM request")

    try:
        response = client.chat.completions.create(
            messages=messages,
            **kwargs
        )

        duration = time.time() - start
        logger.info(
            f"[{request_id}] Completed in {duration:.2f}s, "
            f"tokens: {response.usage.total_tokens}"
        )

        return response

    except Exception as e:
        duration = time.time() - start
        logger.error(f"[{request_id}] Failed after {duration:.2f}s: {e}")
        raise
