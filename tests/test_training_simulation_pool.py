"""The simulation pool of training/train.py runs one BLAS thread per worker process.

PyTorch is a development-only extra (``pip install -e '.[train]'``): without it this test
skips, as the workstation never needs it.
"""

from __future__ import annotations

import multiprocessing as mp

import pytest

pytest.importorskip("torch", reason="PyTorch (the train extra) is not installed")
threadpoolctl = pytest.importorskip("threadpoolctl", reason="the train extra is not installed")

from training.train import one_blas_thread  # noqa: E402


def _blas_threads() -> int:
    return max(info["num_threads"] for info in threadpoolctl.threadpool_info()
               if info["user_api"] == "blas")


def test_simulation_workers_run_one_blas_thread() -> None:
    context = mp.get_context("fork")
    with threadpoolctl.threadpool_limits(2, user_api="blas"), context.Pool(1) as pool:
        assert pool.apply(_blas_threads) == 2  # the parent's setting reaches a plain worker
    with threadpoolctl.threadpool_limits(2, user_api="blas"), \
            context.Pool(1, initializer=one_blas_thread) as pool:
        assert pool.apply(_blas_threads) == 1
