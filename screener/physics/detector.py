"""Polychromatic dual-energy transmission and the detector's blur and noise.

``T = sum_k w_k exp(-sum_m mu_m(E_k) (rho t)_m)`` per channel, with the channel's binned
detected-signal spectrum (w_k, E_k). Both channels of a profile share their bin energies,
so the exponentials are computed once per pixel and energy and a (2, K) matrix gives both
channels.

Speed: a cabin view (1000 x 1500 px, 10-15 materials) takes well under 0.3 s on two cores.
Pixels are processed in blocks of a few thousand with the maps stacked as (M, P) float32,
so each step is a small contiguous matmul or an in-place exp on data that stays in cache;
blocks with nothing in the beam are skipped and materials absent from a block are left out
of its product.
"""

from __future__ import annotations

from collections.abc import Mapping

import cv2
import numpy as np
from numpy.typing import NDArray

from screener.errors import SimulationError
from screener.physics.profiles import ChannelSpectrum, ScannerProfile
from screener.physics.tables import load_attenuation

Float32Array = NDArray[np.float32]

#: Multiply-adds per block product that OpenBLAS still runs on one thread (it splits above
#: about 10^6).
BLAS_SINGLE_THREAD_WORK = 1 << 20
#: Below this many expected quanta a pixel gets exact Poisson noise; above, a Gaussian with
#: the same mean and variance (it ignores the Poisson skewness 1/sqrt(n) < 0.14). Measured on
#: 1.5 Mpx: rng.poisson 54 ms per channel, float32 standard_normal 21 ms.
POISSON_EXACT_BELOW = 50.0
#: Smallest transmission that log_attenuation accepts (A at most 27.6).
MIN_TRANSMISSION = 1e-12


def _spectral_matrices(
    materials: list[str], profile: ScannerProfile
) -> tuple[Float32Array, Float32Array]:
    """(-mu/rho) as (K, M) and the channel weights as (2, K), on the channels' union grid."""
    energies = np.union1d(profile.low.energies_kev, profile.high.energies_kev)
    weights = np.zeros((2, energies.size), dtype=np.float32)
    for row, channel in enumerate((profile.low, profile.high)):
        idx = np.searchsorted(energies, channel.energies_kev)
        weights[row, idx] = channel.weights
    table = load_attenuation()
    neg_mu = -np.stack([table.mu_rho(m, energies) for m in materials], axis=1)
    return neg_mu.astype(np.float32), weights


def _block_pixels(n_materials: int, n_energies: int) -> int:
    """Pixels per block: small enough that BLAS runs each product on the calling thread.

    OpenBLAS splits a product over threads above about 10^6 multiply-adds; on a busy
    two-core machine a threaded product of this skinny shape is 10-50 times slower than a
    single-threaded one (measured), and small blocks also keep the (K, P) exponent block in
    L2 cache.
    """
    return int(np.clip(BLAS_SINGLE_THREAD_WORK // (n_materials * n_energies), 1024, 16384))


def dual_energy_transmission(
    areal_density: Mapping[str, NDArray[np.float32]], profile: ScannerProfile
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Noise-free polychromatic (T_low, T_high).

    ``areal_density`` maps material name -> per-pixel mass thickness rho*t in g/cm^2, all
    arrays the same 2D shape. ``T = sum_k w_k exp(-sum_m mu_m(E_k) rho t_m)``.
    """
    if not areal_density:
        raise SimulationError("no material maps given: the image shape is unknown")
    materials = list(areal_density)
    maps = [np.asarray(areal_density[m]) for m in materials]
    shape = maps[0].shape
    if len(shape) != 2 or any(a.shape != shape for a in maps):
        raise SimulationError(
            "material maps must be 2D and all the same shape, got "
            + ", ".join(f"{m} {a.shape}" for m, a in zip(materials, maps, strict=True))
        )
    neg_mu, weights = _spectral_matrices(materials, profile)  # (K, M), (2, K)
    flat = [np.ascontiguousarray(a, dtype=np.float32).reshape(-1) for a in maps]
    n_pixels = flat[0].size
    t_out = np.ones((2, n_pixels), dtype=np.float32)
    n_energies = neg_mu.shape[0]
    block = _block_pixels(len(materials), n_energies)
    stacked = np.empty((len(materials), block), dtype=np.float32)
    exponent = np.empty((n_energies, block), dtype=np.float32)
    sub_mu: dict[tuple[int, ...], Float32Array] = {}
    for start in range(0, n_pixels, block):
        stop = min(n_pixels, start + block)
        n = stop - start
        parts = [f[start:stop] for f in flat]
        used = tuple(j for j, part in enumerate(parts) if part.any())
        if not used:
            continue  # nothing in the beam: T = 1
        x = stacked[: len(used), :n]
        for row, j in enumerate(used):
            x[row] = parts[j]
        if not x.min() >= 0.0:  # also catches NaN
            bad = [materials[j] for j in used if not parts[j].min() >= 0.0]
            raise SimulationError(
                f"areal densities must be finite and non-negative; bad values in {bad}"
            )
        mu = sub_mu.get(used)
        if mu is None:
            mu = sub_mu[used] = np.ascontiguousarray(neg_mu[:, list(used)])
        y = exponent[:, :n]
        np.matmul(mu, x, out=y)
        np.exp(y, out=y)
        np.matmul(weights, y, out=t_out[:, start:stop])
    np.minimum(t_out, 1.0, out=t_out)
    return t_out[0].reshape(shape), t_out[1].reshape(shape)


def detect(
    transmission: NDArray[np.float32],
    channel: ChannelSpectrum,
    profile: ScannerProfile,
    rng: np.random.Generator,
) -> NDArray[np.float32]:
    """Blur, quantum noise and electronic noise: what the detector reports as transmission.

    Gaussian blur (sigma = ``profile.blur_sigma_px``, cv2), then quantum noise on
    ``open_beam_quanta * T`` (exact Poisson below 50 expected quanta, Gaussian with the same
    variance above), then additive electronic noise; the result is clipped to
    ``[1/open_beam_quanta, 1]``. Deterministic for a given ``rng`` state.
    """
    t = np.asarray(transmission, dtype=np.float32)
    if t.ndim != 2:
        raise SimulationError(f"transmission must be a 2D image, got shape {t.shape}")
    sigma = profile.blur_sigma_px
    if sigma > 0.0:
        blurred = cv2.GaussianBlur(
            t, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REPLICATE
        )
        t = np.asarray(blurred, dtype=np.float32)
    n = float(channel.open_beam_quanta)
    e_noise = float(profile.electronic_noise)
    t = np.clip(t, np.float32(0.0), np.float32(1.0))
    noise_sd = t * np.float32(1.0 / n)
    noise_sd += np.float32(e_noise**2)
    np.sqrt(noise_sd, out=noise_sd)
    noisy = rng.standard_normal(t.shape, dtype=np.float32)
    noisy *= noise_sd
    noisy += t
    low = np.flatnonzero(t.reshape(-1) < POISSON_EXACT_BELOW / n)
    if low.size:
        expected = t.reshape(-1)[low].astype(np.float64) * n
        counts = rng.poisson(expected).astype(np.float32)
        counts *= np.float32(1.0 / n)
        counts += np.float32(e_noise) * rng.standard_normal(low.size, dtype=np.float32)
        noisy.reshape(-1)[low] = counts
    np.clip(noisy, np.float32(1.0 / n), np.float32(1.0), out=noisy)
    return noisy


def log_attenuation(t: NDArray[np.float32]) -> NDArray[np.float32]:
    """``A = -ln T`` as float32, with T floored at 1e-12."""
    a = np.maximum(np.asarray(t, dtype=np.float32), np.float32(MIN_TRANSMISSION))
    np.log(a, out=a)
    np.negative(a, out=a)
    return a
