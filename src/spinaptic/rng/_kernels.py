"""Compiled (numba) primitives of spinaptic's one counter-based generator; see `spinaptic.rng` for the design.

Everything here is straight-line code (no data-dependent branches, no libm calls), so a loop over lanes that
calls it vectorises (AVX2 / AVX-512): the fdlibm ``log`` and ``sin`` / ``cos`` kernels are inlined with
branch-free reductions, and floats are built from bits by the exponent trick.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

_U = np.uint64
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
"""The Weyl increment of splitmix64 (2^64 / golden ratio, odd)."""
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S12 = np.uint64(12)
_S52 = np.uint64(52)
_EXP_ONE = np.uint64(0x3FF0000000000000)
_MANT = np.uint64(0x000FFFFFFFFFFFFF)
_EXP_MASK = np.uint64(0x7FF)
_TWO52_BITS = np.uint64(0x4330000000000000)  # the bits of 2^52
_TWO52 = 4503599627370496.0
_S2B = np.uint64(2)
_S62 = np.uint64(62)
_S63 = np.uint64(63)
_HALF_PI = 0.5 * math.pi
_TWO_PI = 2.0 * math.pi
_TWO_OVER_PI = 2.0 / math.pi
# fdlibm: pi/2 split for Cody-Waite reduction and the minimax kernels of sin / cos on [-pi/4, pi/4].
_PIO2_1 = 1.57079632673412561417e00
_PIO2_1T = 6.07710050650619224932e-11
_S1, _S2, _S3 = -1.66666666666666324348e-01, 8.33333333332248946124e-03, -1.98412698298579493134e-04
_S4, _S5, _S6 = 2.75573137070700676789e-06, -2.50507602534068634195e-08, 1.58969099521155010221e-10
_C1, _C2, _C3 = 4.16666666666666019037e-02, -1.38888888888741095749e-03, 2.48015872894767294178e-05
_C4, _C5, _C6 = -2.75573143513906633035e-07, 2.08757232129817482790e-09, -1.13596475577881948265e-11
# fdlibm log kernel.
_LG1, _LG2, _LG3 = 6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01
_LG4, _LG5, _LG6 = 2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10
_SQRT2 = math.sqrt(2.0)


@intrinsic
def as_f64(typingctx, x):
    """Reinterpret the bits of a uint64 as a float64."""
    if isinstance(x, types.Integer) and x.bitwidth == 64:

        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(types.float64))

        return types.float64(x), codegen
    return None


@intrinsic
def as_u64(typingctx, x):
    """Reinterpret the bits of a float64 as a uint64."""
    if isinstance(x, types.Float) and x.bitwidth == 64:

        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(types.uint64))

        return types.uint64(x), codegen
    return None


@njit(cache=True, inline="always", error_model="numpy")
def mix64(z):
    """The splitmix64 finaliser (Steele, Lea & Flood, OOPSLA 2014): a bijective avalanche hash of a uint64."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always", error_model="numpy")
def splitmix(x):
    """One step of the splitmix64 generator: returns (x + GOLDEN, mix64(x + GOLDEN))."""
    x = x + GOLDEN
    return x, mix64(x)


@njit(cache=True, inline="always", error_model="numpy")
def stream_start(key, stream):
    """Start of stream ``stream`` (any uint64 index) under ``key``: key xor mix64((stream + 1) * GOLDEN)."""
    return _U(key) ^ mix64((_U(stream) + _U(1)) * GOLDEN)


@njit(cache=True, inline="always", error_model="numpy")
def word(start, n):
    """64 random bits: word ``n`` (0, 1, 2, ...) of the stream that begins at ``start``."""
    return mix64(start + (_U(n) + _U(1)) * GOLDEN)


@njit(cache=True, inline="always", error_model="numpy")
def unit(w):
    """A uniform double in [0, 1) on the 2^-52 grid, from the top 52 bits of ``w``."""
    return as_f64((w >> _S12) | _EXP_ONE) - 1.0


@njit(cache=True, inline="always", error_model="numpy")
def unit_open(w):
    """A uniform double in (0, 1] on the 2^-52 grid (safe under a log), from the top 52 bits of ``w``."""
    return 2.0 - as_f64((w >> _S12) | _EXP_ONE)


@njit(cache=True, inline="always", error_model="numpy")
def log_pos(x):
    """Natural log of a positive normal float64 (fdlibm kernel, < 1 ulp); branch-free so it vectorises."""
    bits = as_u64(x)
    # exponent as a double by the 2^52 trick (AVX2 has no vector int64 -> double conversion)
    e = (as_f64(((bits >> _S52) & _EXP_MASK) | _TWO52_BITS) - _TWO52) - 1023.0
    m = as_f64((bits & _MANT) | _EXP_ONE)
    big = m > _SQRT2
    m = 0.5 * m if big else m
    e = e + 1.0 if big else e
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    hfsq = 0.5 * f * f
    return e * _LN2_HI - ((hfsq - (s * (hfsq + t1 + t2) + e * _LN2_LO)) - f)


@njit(cache=True, inline="always", error_model="numpy")
def sincos(x):
    """(sin x, cos x) to ~1 ulp for |x| < 1e6: Cody-Waite reduction to [-pi/4, pi/4] and fdlibm polynomials,
    with a branch-free quadrant fix-up (a libm sin + cos pair costs ~4x more and does not vectorise). The
    quadrant count stays a double (np.floor; math.floor would round-trip through int64, which AVX2 converts
    one lane at a time)."""
    nq = np.floor(x * _TWO_OVER_PI + 0.5)
    r = (x - nq * _PIO2_1) - nq * _PIO2_1T
    s, c = _sincos_poly(r)
    qd = nq - 4.0 * np.floor(0.25 * nq)  # quadrant 0..3
    swap = (qd == 1.0) | (qd == 3.0)
    sgn_s = -1.0 if qd >= 2.0 else 1.0
    sgn_c = -1.0 if (qd == 1.0) | (qd == 2.0) else 1.0
    return sgn_s * (c if swap else s), sgn_c * (s if swap else c)


@njit(cache=True, inline="always", error_model="numpy")
def normal_pair_from(w1, w2):
    """Two independent N(0, 1) draws (Box-Muller, float64) from two random words: (r cos t, r sin t) with
    r = sqrt(-2 ln x1), x1 = unit_open(w1), t = 2 pi unit(w2). |z| <= sqrt(104 ln 2) = 8.49."""
    r = math.sqrt(-2.0 * log_pos(unit_open(w1)))
    s, c = sincos(_TWO_PI * unit(w2))
    return r * c, r * s


@njit(cache=True, inline="always", error_model="numpy")
def normal_pair(start, k):
    """Normal pair ``k`` of the stream at ``start``: Box-Muller of words 2k and 2k + 1."""
    n = _U(2) * _U(k)
    return normal_pair_from(word(start, n), word(start, n + _U(1)))


@njit(cache=True, inline="always", error_model="numpy")
def _sincos_poly(r):
    """(sin r, cos r) for |r| <= pi/4 (the fdlibm minimax kernels, no reduction)."""
    r2 = r * r
    s = r + r * r2 * (_S1 + r2 * (_S2 + r2 * (_S3 + r2 * (_S4 + r2 * (_S5 + r2 * _S6)))))
    c = 1.0 - 0.5 * r2 + r2 * r2 * (_C1 + r2 * (_C2 + r2 * (_C3 + r2 * (_C4 + r2 * (_C5 + r2 * _C6)))))
    return s, c


@njit(cache=True, inline="always", error_model="numpy")
def _flip(x, bit):
    """x with its sign flipped where ``bit`` (0 or 1, uint64) is 1 (integer ops only, so it vectorises)."""
    return as_f64(as_u64(x) ^ (bit << _S63))


@njit(cache=True, inline="always", error_model="numpy")
def gauss_radius(w1):
    """The Box-Muller radius sqrt(-2 ln x1), x1 = unit_open(w1): at most sqrt(104 ln 2) = 8.49."""
    return math.sqrt(-2.0 * log_pos(unit_open(w1)))


@njit(cache=True, inline="always", error_model="numpy")
def gauss_angle(w2):
    """(cos t, sin t) of a uniform angle t = q pi/2 + theta: the quadrant q from the top two bits of ``w2``,
    theta = pi/2 (f - 1/2) uniform on [-pi/4, pi/4) from the next 50, so no argument reduction is needed (t is
    uniform on an interval of length 2 pi, which is all Box-Muller asks)."""
    f = as_f64(((w2 << _S2B) >> _S12) | _EXP_ONE) - 1.5  # f - 1/2 on the 2^-50 grid
    s, c = _sincos_poly(_HALF_PI * f)
    q1 = w2 >> _S63  # q = 2 q1 + q0; rotation by q quarter turns: (c, s), (-s, c), (-c, -s), (s, -c)
    q0 = (w2 >> _S62) & _U(1)
    x = s if q0 else c
    y = c if q0 else s
    return _flip(x, q1 ^ q0), _flip(y, q1)


@njit(cache=True, inline="always", error_model="numpy")
def gauss_pair(w1, w2):
    """Two independent N(0, 1) draws from two words, the vector-friendly Box-Muller:
    `gauss_radius` (w1) times `gauss_angle` (w2). Kernels may call the two halves in separate lane loops."""
    r = gauss_radius(w1)
    x, y = gauss_angle(w2)
    return r * x, r * y


# ------------------------------------------------------------------------------------ bulk draws (tests, tools)
@njit(parallel=True, cache=True, error_model="numpy")
def words(key, n_streams, n_words):
    """uint64 [n_streams, n_words]: words 0..n_words-1 of streams 0..n_streams-1 under ``key``."""
    out = np.empty((n_streams, n_words), np.uint64)
    for i in prange(n_streams):
        st = stream_start(key, i)
        for n in range(n_words):
            out[i, n] = word(st, n)
    return out


@njit(parallel=True, cache=True, error_model="numpy")
def normals(key, n_streams, n_pairs, vector_friendly):
    """float64 [n_streams, 2 n_pairs]: pairs 0..n_pairs-1 (words 2k, 2k + 1) of each stream, interleaved
    (x0, y0, x1, ...), by `normal_pair` or, with ``vector_friendly``, by `gauss_pair`."""
    out = np.empty((n_streams, 2 * n_pairs))
    for i in prange(n_streams):
        st = stream_start(key, i)
        for k in range(n_pairs):
            if vector_friendly:
                a, b = gauss_pair(word(st, 2 * k), word(st, 2 * k + 1))
            else:
                a, b = normal_pair(st, k)
            out[i, 2 * k] = a
            out[i, 2 * k + 1] = b
    return out
