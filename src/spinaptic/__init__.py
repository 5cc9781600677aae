"""spinaptic: spintronic neuromorphic hardware, from MTJ device physics to network accuracy and energy.

Layers (imports point down only)::

    physics/  -> devices/ -> arrays/ -> networks/ -> experiments/
    data/, energy, config are shared utilities; cli sits on top.
"""

__version__ = "0.1.0"


def _default_numba_cache() -> None:
    """Send numba's on-disk cache to ``<user cache>/spinaptic/numba`` unless ``NUMBA_CACHE_DIR`` is set.

    numba caches next to the sources by default, which fails on read-only installs. This runs on the first
    import of spinaptic, before any kernel is compiled; a numba imported earlier is told directly.
    """
    import os
    import sys

    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    try:
        import platformdirs
    except ImportError:  # pragma: no cover - a declared dependency
        return
    base = platformdirs.user_cache_dir("spinaptic", appauthor=False)
    if not os.path.isabs(base):  # e.g. a relative XDG_CACHE_HOME, which the XDG spec says to ignore
        return
    path = os.path.join(base, "numba")
    os.environ["NUMBA_CACHE_DIR"] = path
    numba_config = sys.modules.get("numba.core.config")
    if numba_config is not None and not getattr(numba_config, "CACHE_DIR", ""):
        numba_config.CACHE_DIR = path


_default_numba_cache()
