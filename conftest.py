"""Test-session setup, loaded before anything imports refmodels.

* One torch thread per process: `make test` runs two workers on two cores.
* jaxtyping checks every annotated shape in refmodels (``Float[Tensor, "B C H W"]``)
  at run time, through beartype, for the whole session.
* No network: a test that tries to open a connection to anything but this machine fails.
"""

import os
import socket

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "agg")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from jaxtyping import install_import_hook  # noqa: E402

_hook = install_import_hook("refmodels", "beartype.beartype")

import torch  # noqa: E402

torch.set_num_threads(1)

_connect = socket.socket.connect


def _local_only(self, address):
    host = address[0] if isinstance(address, tuple) else address
    if self.family == socket.AF_UNIX or host in ("127.0.0.1", "::1", "localhost"):
        return _connect(self, address)
    raise RuntimeError(f"tests must not use the network; tried to connect to {address!r}")


socket.socket.connect = _local_only
