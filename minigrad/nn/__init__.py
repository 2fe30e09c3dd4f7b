"""``mg.nn``: modules, layers, losses, initialisation and training helpers (PyTorch's API).

    import minigrad as mg
    from minigrad import nn
    import minigrad.nn.functional as F

    model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 3))
    loss = F.cross_entropy(model(x), y)
"""

from minigrad.nn import functional, init, tbptt, utils
from minigrad.nn.containers import ModuleDict, ModuleList, Sequential
from minigrad.nn.layers import (
    Dropout,
    Embedding,
    Flatten,
    Identity,
    LayerNorm,
    Linear,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from minigrad.nn.loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter
from minigrad.nn.rnn import (
    GRU,
    LSTM,
    RNN,
    GRUCell,
    LSTMCell,
    Recurrent,
    RNNCell,
    is_fused_default,
    set_fused_default,
    use_fused,
)

__all__ = [
    "is_fused_default", "set_fused_default", "use_fused",
    "tbptt",
    "BCEWithLogitsLoss", "CrossEntropyLoss", "Dropout", "Embedding", "Flatten", "GRU",
    "GRUCell", "Identity", "LSTM", "LSTMCell", "LayerNorm", "Linear", "LogSoftmax", "MSELoss",
    "Module", "ModuleDict", "ModuleList", "NLLLoss", "Parameter", "RNN", "RNNCell", "Recurrent",
    "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh", "functional", "init", "utils",
]
