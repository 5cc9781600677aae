"""spinaptic: spintronic neuromorphic hardware, from MTJ device physics to network accuracy and energy.

Layers (imports point down only)::

    physics/  -> devices/ -> arrays/ -> networks/ -> experiments/
    data/, energy, config are shared utilities; cli sits on top.
"""

__version__ = "0.1.0"
