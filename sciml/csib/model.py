r"""Stochastic encoder x -> t and decoder t -> y_hat shared by CS-IB and every baseline.

Yu et al., "Cauchy-Schwarz Divergence Information Bottleneck for Regression", ICLR 2024,
Sec. 3 and App. (network: MLP encoder, Gaussian noise injection, MLP decoder, after Kolchinsky
et al., "Nonlinear Information Bottleneck", Entropy 2019, Sec. 4.1).

.. math:: t = f_\theta(x) + \mathrm{diag}(s)\,\varepsilon,\quad \varepsilon\sim\mathcal N(0, I),
          \qquad \hat y = g_\phi(t)

The noise scale ``s`` is ``"none"`` (deterministic, s = 0), ``"fixed"``, ``"learned"`` (one
trainable log-scale per bottleneck dimension) or ``"heteroscedastic"`` (``s = s(x) =
sigmoid(a(x) + c)`` in (0, 1) from a linear head ``a``, as VIB needs; ``c`` makes
``s = noise_std`` at ``a = 0``; bounded so that outlying inputs cannot blow the noise up).
Parameters are initialised from an explicit ``torch.Generator``, never from the global RNG,
so that fits running side by side in threads stay reproducible.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

from sciml.errors import ConfigError

__all__ = ["NoiseMode", "StochasticEncoder", "Decoder", "IBNet", "init_parameters"]

NoiseMode = Literal["none", "fixed", "learned", "heteroscedastic"]
_NOISE = ("none", "fixed", "learned", "heteroscedastic")


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def init_parameters(module: nn.Module, generator: torch.Generator) -> None:
    """Re-initialise every ``nn.Linear`` as PyTorch does by default, from ``generator``.

    Weights ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (Kaiming-uniform with a = sqrt 5) and the
    same bound for biases.
    """
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.Linear):
                bound = 1.0 / math.sqrt(m.in_features)
                m.weight.uniform_(-bound, bound, generator=generator)
                if m.bias is not None:
                    m.bias.uniform_(-bound, bound, generator=generator)


class StochasticEncoder(nn.Module):
    """MLP encoder with Gaussian noise injection.

    Parameters
    ----------
    d_in : input dimension.
    d_t : bottleneck dimension.
    hidden : hidden layer widths.
    noise : "none" | "fixed" | "learned" | "heteroscedastic".
    noise_std : the fixed scale, or the initial scale of a learned one.
    """

    def __init__(
        self,
        d_in: int,
        d_t: int,
        hidden: tuple[int, ...] = (128, 128),
        noise: NoiseMode = "learned",
        noise_std: float = 0.1,
    ) -> None:
        super().__init__()
        if noise not in _NOISE:
            raise ConfigError(f"noise mode {noise!r} unknown; use one of {list(_NOISE)}")
        if noise != "none" and not noise_std > 0:
            raise ConfigError(f"noise_std must be > 0 for noise mode {noise!r}, got {noise_std}")
        self.noise = noise
        self.body = _mlp([d_in, *hidden])
        self.act = nn.ReLU()
        self.mean_head = nn.Linear(hidden[-1], d_t)
        log_s = torch.full((d_t,), math.log(noise_std) if noise != "none" else 0.0)
        if noise == "learned":
            self.log_std = nn.Parameter(log_s)
        else:
            self.register_buffer("log_std", log_s)
        self.log_std_head = nn.Linear(hidden[-1], d_t) if noise == "heteroscedastic" else None
        # logit of noise_std: a zero head output gives the scale noise_std
        if noise == "heteroscedastic" and not noise_std < 1:
            raise ConfigError(f"heteroscedastic noise_std must be < 1, got {noise_std}")
        self._logit_offset = math.log(noise_std / (1 - noise_std)) if noise_std < 1 else 0.0

    def forward(
        self, x: torch.Tensor, sample: bool = True, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Encode ``x`` of shape (n, d_in).

        Returns
        -------
        t : (n, d_t), a noisy sample when ``sample`` (and noise is on), else the mean.
        mean : (n, d_t)
        log_std : (n, d_t) or (d_t,) log noise scale; None for a deterministic encoder.
        """
        h = self.act(self.body(x))
        mean = self.mean_head(h)
        if self.noise == "none":
            return mean, mean, None
        if self.log_std_head is not None:
            # bounded scale in (0, 1) (the prior's scale): an outlying input, which drives the
            # head's output far out, cannot blow the noise (or the KL) up
            log_std = nn.functional.logsigmoid(self.log_std_head(h) + self._logit_offset)
        else:
            log_std = self.log_std
        if not sample:
            return mean, mean, log_std
        eps = torch.randn(mean.shape, generator=generator, dtype=mean.dtype, device=mean.device)
        return mean + torch.exp(log_std) * eps, mean, log_std


class Decoder(nn.Module):
    """MLP decoder t -> y_hat (scalar regression output).

    Parameters
    ----------
    d_t : bottleneck dimension.
    hidden : hidden layer widths.
    """

    def __init__(self, d_t: int, hidden: tuple[int, ...] = (128,)) -> None:
        super().__init__()
        self.net = _mlp([d_t, *hidden, 1])

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """Return y_hat, shape (n,)."""
        return self.net(t).squeeze(-1)


class IBNet(nn.Module):
    """Encoder + decoder. ``forward`` returns ``(y_hat, t, mean, log_std)``.

    Parameters
    ----------
    d_in, d_t : input and bottleneck dimensions.
    enc_hidden, dec_hidden : hidden widths.
    noise, noise_std : see :class:`StochasticEncoder`.
    """

    def __init__(
        self,
        d_in: int,
        d_t: int = 16,
        enc_hidden: tuple[int, ...] = (128, 128),
        dec_hidden: tuple[int, ...] = (128,),
        noise: NoiseMode = "learned",
        noise_std: float = 0.1,
    ) -> None:
        super().__init__()
        self.encoder = StochasticEncoder(d_in, d_t, enc_hidden, noise, noise_std)
        self.decoder = Decoder(d_t, dec_hidden)

    def forward(
        self, x: torch.Tensor, sample: bool = True, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
        t, mean, log_std = self.encoder(x, sample=sample, generator=generator)
        return self.decoder(t), t, mean, log_std

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Deterministic prediction from the mean encoding, shape (n,)."""
        return self.decoder(self.encoder(x, sample=False)[1])
