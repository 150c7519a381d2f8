"""Chinese map datums → WGS-84, with the public formulas.

Phones and web maps in China report GCJ-02 (the state-mandated offset, ~100–700 m) or BD-09
(Baidu's further offset of GCJ-02). Grid polygons are stored in WGS-84, so every point is
converted on input. The forward GCJ-02 offset has no closed-form inverse; we invert it by
fixed-point iteration, which converges to well under a millimetre in a few steps.

All functions accept floats or numpy arrays (vectorised for batch lookups).
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

import numpy as np
import numpy.typing as npt

Crs = Literal["wgs84", "gcj02", "bd09"]
CRS_CHOICES: tuple[Crs, ...] = ("wgs84", "gcj02", "bd09")

# Krasovsky 1940 ellipsoid, as the GCJ-02 formulas use it.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0
_INVERSE_TOLERANCE_DEG = 1e-10  # ≈ 0.01 mm
_MAX_ITERATIONS = 30

T = TypeVar("T", float, npt.NDArray[np.float64])


def _as_array(value: float | npt.ArrayLike) -> npt.NDArray[np.float64]:
    return np.asarray(value, dtype=np.float64)


def _largest(delta: npt.NDArray[np.float64]) -> float:
    """Largest finite |delta| (NaN marks a point the caller already rejected)."""
    magnitude = np.abs(delta)
    return float(np.max(magnitude, where=np.isfinite(magnitude), initial=0.0))


def in_china(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """The rough bounding box inside which the GCJ-02 offset applies (outside it is zero)."""
    x, y = _as_array(lon), _as_array(lat)
    return (x >= 72.004) & (x <= 137.8347) & (y >= 0.8293) & (y <= 55.8271)


def _offset(
    lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """GCJ-02 minus WGS-84 at a WGS-84 point, in degrees (zero outside China)."""
    x, y = lon - 105.0, lat - 35.0
    periodic = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x)) + periodic
    d_lat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    d_lat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)) + periodic
    d_lon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    d_lon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, d_lon, 0.0), np.where(inside, d_lat, 0.0)


def _unwrap(
    lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64], like: float | npt.NDArray[np.float64]
) -> tuple[Any, Any]:
    """The result in the caller's kind: floats for a scalar `like`, arrays for an array. (Any: the
    public functions' T follows from `like` at run time, which a type checker cannot see.)"""
    if np.ndim(like) == 0:
        return float(lon), float(lat)
    return lon, lat


def wgs84_to_gcj02(lon: T, lat: T) -> tuple[T, T]:
    x, y = _as_array(lon), _as_array(lat)
    d_lon, d_lat = _offset(x, y)
    return _unwrap(x + d_lon, y + d_lat, lon)


def gcj02_to_wgs84(lon: T, lat: T) -> tuple[T, T]:
    """Invert the offset: find w with w + offset(w) = g, starting from w = g − offset(g)."""
    g_lon, g_lat = _as_array(lon), _as_array(lat)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(_MAX_ITERATIONS):
        d_lon, d_lat = _offset(w_lon, w_lat)
        n_lon, n_lat = g_lon - d_lon, g_lat - d_lat
        step = max(_largest(n_lon - w_lon), _largest(n_lat - w_lat))
        w_lon, w_lat = n_lon, n_lat
        if step < _INVERSE_TOLERANCE_DEG:
            break
    return _unwrap(w_lon, w_lat, lon)


def _gcj02_to_bd09(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def gcj02_to_bd09(lon: T, lat: T) -> tuple[T, T]:
    b_lon, b_lat = _gcj02_to_bd09(_as_array(lon), _as_array(lat))
    return _unwrap(b_lon, b_lat, lon)


def bd09_to_gcj02(lon: T, lat: T) -> tuple[T, T]:
    """The usual closed-form inverse, then a few Newton-free corrections so the round trip is exact."""
    b_lon, b_lat = _as_array(lon), _as_array(lat)
    x, y = b_lon - 0.0065, b_lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    g_lon, g_lat = z * np.cos(theta), z * np.sin(theta)
    for _ in range(_MAX_ITERATIONS):
        f_lon, f_lat = _gcj02_to_bd09(g_lon, g_lat)
        e_lon, e_lat = b_lon - f_lon, b_lat - f_lat
        g_lon, g_lat = g_lon + e_lon, g_lat + e_lat
        if max(_largest(e_lon), _largest(e_lat)) < _INVERSE_TOLERANCE_DEG:
            break
    return _unwrap(g_lon, g_lat, lon)


def wgs84_to_bd09(lon: T, lat: T) -> tuple[T, T]:
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    return gcj02_to_bd09(g_lon, g_lat)


def bd09_to_wgs84(lon: T, lat: T) -> tuple[T, T]:
    g_lon, g_lat = bd09_to_gcj02(lon, lat)
    return gcj02_to_wgs84(g_lon, g_lat)


def to_wgs84(lon: T, lat: T, *, crs: str) -> tuple[T, T]:
    """Convert from `crs` ("wgs84", "gcj02" or "bd09") to WGS-84."""
    if crs == "wgs84":
        return lon, lat
    if crs == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if crs == "bd09":
        return bd09_to_wgs84(lon, lat)
    raise ValueError(f"unknown crs {crs!r}")


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine on the mean Earth radius)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return float(2 * 6371008.8 * np.arcsin(np.sqrt(h)))
