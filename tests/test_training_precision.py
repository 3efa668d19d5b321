"""``--bf16 auto`` turns bf16 autocast on only where the hardware runs it natively (AMX
tiles or AVX512-BF16; ``bench/train_step.py`` measures the gain), never where it would
be emulated. PyTorch is a development-only extra: without it this test skips.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="PyTorch (the train extra) is not installed")

from training.train import NATIVE_BF16_PROBES, use_bf16  # noqa: E402

CPU = torch.device("cpu")


def _cpu_with(monkeypatch: pytest.MonkeyPatch, **present: bool) -> None:
    for name in NATIVE_BF16_PROBES:
        if name in present:
            monkeypatch.setattr(torch.cpu, name, lambda value=present[name]: value,
                                raising=False)
        else:
            monkeypatch.delattr(torch.cpu, name, raising=False)


@pytest.mark.parametrize(("features", "expected"), [
    ({"_is_amx_tile_supported": True, "_is_avx512_bf16_supported": True}, True),
    ({"_is_amx_tile_supported": False, "_is_avx512_bf16_supported": True}, True),
    ({"_is_amx_tile_supported": False, "_is_avx512_bf16_supported": False}, False),
    ({}, False),  # a torch without the private probes: stay in fp32
])
def test_auto_follows_native_bf16(monkeypatch: pytest.MonkeyPatch,
                                  features: dict[str, bool], expected: bool) -> None:
    _cpu_with(monkeypatch, **features)
    assert use_bf16("auto", CPU) is expected


def test_explicit_choice_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    _cpu_with(monkeypatch)
    assert use_bf16("on", CPU) is True
    _cpu_with(monkeypatch, _is_amx_tile_supported=True)
    assert use_bf16("off", CPU) is False
