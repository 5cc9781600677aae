"""Arrays: weight <-> conductance mapping, crossbar reads with noise, outer-product updates, periodic carry.

Knows devices, not networks.
"""
