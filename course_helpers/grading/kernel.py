"""The kernel manager the grader uses: a wrapped launch command, interrupts by message.

The grader talks to the kernel over jupyter's ``ipc`` transport (Unix sockets next to the
connection file, in a folder bind-mounted into the sandbox): the sandbox has no network shared
with the grader, not even loopback. An interrupt is sent as an ``interrupt_request`` on the
control channel, because the kernel runs in its own session and PID namespace, where a signal to
the launcher's process group would kill the sandbox instead of interrupting the cell.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jupyter_client.manager import AsyncKernelManager

__all__ = ["GradingKernelManager"]


class GradingKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` whose launch command goes through ``wrap``."""

    def __init__(self, *, wrap: Callable[[list[str]], list[str]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._wrap = wrap

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        command: list[str] = super().format_kernel_cmd(extra_arguments)
        return self._wrap(command)

    async def _async_interrupt_by_message(self) -> None:
        if not self.has_kernel:
            raise RuntimeError("Cannot interrupt kernel. No kernel is running!")
        message = self.session.msg("interrupt_request", content={})
        self._connect_control_socket()
        self.session.send(self._control_socket, message)

    interrupt_kernel = _async_interrupt_by_message
