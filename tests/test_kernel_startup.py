"""The page kernels cannot race for ports: many kernels start at once, all run a cell.

The build executes pages in forked Sphinx workers through nbclient; docs/_ext/ipckernels.py
puts every kernel on the ipc transport with a unique socket prefix. This test starts
KERNELS kernels, CONCURRENT at a time, in forked worker processes through the same
nbclient path, runs one cell in each and requires every one to answer. On TCP the same
machinery failed about one cold build in five.
"""

import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "_ext"))
import ipckernels  # noqa: E402

KERNELS = 40
CONCURRENT = 4


def _run_one(i: int) -> tuple[str, str]:
    import nbclient

    ipckernels.install()
    nb = nbformat.v4.new_notebook()
    # the kernel reports the transport it was started on, from its own connection file
    nb.cells.append(
        nbformat.v4.new_code_cell(
            f"from ipykernel.connect import get_connection_info\n"
            f"print(get_connection_info(unpack=True)['transport'], {i} * 7)"
        )
    )
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    transport, answer = nb.cells[0].outputs[0]["text"].split()
    return transport, answer


@pytest.mark.docs
def test_many_kernels_start_concurrently_on_ipc():
    ctx = multiprocessing.get_context("fork")  # as Sphinx's parallel reader does
    with ProcessPoolExecutor(CONCURRENT, mp_context=ctx) as pool:
        results = list(pool.map(_run_one, range(KERNELS)))
    transports = {t for t, _ in results}
    answers = [int(text) for _, text in results]
    print(f"{len(results)} kernels, {CONCURRENT} at a time, transports {transports}")
    assert transports == {"ipc"}, transports
    assert answers == [i * 7 for i in range(KERNELS)], answers


def test_failed_kernel_start_is_labelled_infrastructure():
    import asyncio

    async def broken(self, *args, **kwargs):
        raise RuntimeError("Kernel died before replying to kernel_info")

    wrapped = ipckernels._labelled(broken)

    class Client:
        resources = {"metadata": {"path": "docs/x"}}

    with pytest.raises(ipckernels.KernelStartError, match="INFRASTRUCTURE FAILURE.*docs/x.*kernel_info"):
        asyncio.run(wrapped(Client()))
