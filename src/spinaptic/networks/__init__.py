"""Networks built on arrays of devices: p-bit DBN, STDP SNN, device-aware MLP training, metaplastic BNN,
CNN inference on DW-MTJ conductances, stochastic computing."""
