"""Page kernels talk over Unix sockets, so two pages can never race for a TCP port.

The race: to start a kernel over TCP, jupyter_client picks five free ports by binding
and releasing them, writes them to the connection file, and the kernel binds them a
moment later. With two pages executing at once (``sphinx-build -j 2``), the second
manager can be handed a port the first kernel is about to bind; that kernel then dies
with ``ZMQError: Address already in use`` and the build fails before any cell ran
(seen in one of five cold builds).

The fix removes the shared resource instead of retrying around it: every kernel that
nbclient starts (myst-nb executes pages through jupyter-cache -> nbclient) uses the
``ipc`` transport, with its sockets in a directory private to this build and a file
name unique to the kernel (a random id), so no two kernels can ever pick the same
address. jupyter_client's own ipc default names the sockets ``kernel-ipc-N`` in the
current directory, which would only move the race; hence the unique ``ip`` below.

If a kernel still fails to start (an infrastructure failure: out of memory, a broken
environment), the error says so plainly and names the page, distinct from a failing
cell. ``tests/test_kernel_startup.py`` starts 40 kernels, four at a time, through
this same manager and runs a cell in each.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid

from jupyter_client import AsyncKernelManager
from traitlets import default

_SOCKET_DIR: str | None = None


def socket_dir() -> str:
    """A short private directory for this process's kernel sockets (Unix socket paths
    are limited to about 107 bytes, so it lives directly under the temp directory)."""
    global _SOCKET_DIR
    if _SOCKET_DIR is None or not os.path.isdir(_SOCKET_DIR):
        _SOCKET_DIR = tempfile.mkdtemp(prefix="mw-kernels-", dir="/tmp" if os.path.isdir("/tmp") else None)
        atexit.register(shutil.rmtree, _SOCKET_DIR, True)
    return _SOCKET_DIR


class IPCKernelManager(AsyncKernelManager):
    """An AsyncKernelManager on the ipc transport with a unique socket prefix."""

    @default("transport")
    def _transport_default(self) -> str:
        return "ipc"

    @default("ip")
    def _ip_default(self) -> str:
        return os.path.join(socket_dir(), uuid.uuid4().hex[:16])


class KernelStartError(RuntimeError):
    """The page's kernel did not start: not a failing cell, an infrastructure problem."""


def _labelled(start):
    async def start_labelled(self, *args, **kwargs):
        try:
            return await start(self, *args, **kwargs)
        except Exception as err:  # noqa: BLE001 - re-raised with a plain label
            path = (self.resources or {}).get("metadata", {}).get("path", "?")
            raise KernelStartError(
                f"INFRASTRUCTURE FAILURE, not a failing cell: the Jupyter kernel for the page in {path} "
                f"did not start ({type(err).__name__}: {err}). Rebuild; if it persists, check memory and "
                "the environment (`make install`)."
            ) from err

    return start_labelled


def install() -> None:
    """Make IPCKernelManager nbclient's default, and label start-up failures."""
    from nbclient.client import NotebookClient

    if getattr(NotebookClient, "_mw_ipc_installed", False):
        return
    create = NotebookClient.create_kernel_manager

    def create_kernel_manager(self):
        # only where nbclient would use its own default manager
        if self.kernel_manager_class is AsyncKernelManager:
            self.kernel_manager_class = IPCKernelManager
        return create(self)

    NotebookClient.create_kernel_manager = create_kernel_manager  # type: ignore[method-assign]
    for name in ("async_start_new_kernel", "async_start_new_kernel_client"):
        setattr(NotebookClient, name, _labelled(getattr(NotebookClient, name)))
    NotebookClient._mw_ipc_installed = True


def setup(app):
    install()
    return {"parallel_read_safe": True, "parallel_write_safe": True}
