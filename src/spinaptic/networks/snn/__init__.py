"""Paper 001's unsupervised spiking network: LIF neurons with adaptation and homeostasis, Poisson inputs,
lateral inhibition and STDP programmed into synapse devices (`network.STDPNetwork`), labelling and voting
(`readout`), and the same network as a plain-torch loop (`reference`, the speed baseline)."""

from .config import PRESETS, SNNConfig, STDPParams, diehl_cook, sengupta2016
from .network import STDPNetwork
from .neurons import LIFParams, LIFPopulation, LIFState, lif_rest_state, lif_step

__all__ = ["LIFParams", "LIFPopulation", "LIFState", "PRESETS", "SNNConfig", "STDPNetwork", "STDPParams",
           "diehl_cook", "lif_rest_state", "lif_step", "sengupta2016"]
