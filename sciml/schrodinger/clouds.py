r"""A real-data-like unpaired translation example: a Gaussian cloud to a Swiss roll (2-D).

The two point clouds are generated (seeded), so the example ships with the project: the source is
:math:`\mathcal N(0, I_2)`, the target a noisy Swiss roll
:math:`t(\cos t, \sin t)/c + \sigma\xi` with :math:`t \sim U[1.5\pi, 4.5\pi]`, scaled to unit
variance per coordinate. LightSB is fitted on unpaired samples and the learned SB process is
simulated with its closed-form drift (Korotin et al., ICLR 2024, Section 5.1 and Fig. 3; see
:func:`~sciml.schrodinger.experiment.simulate_examples`).
"""

from __future__ import annotations

import numpy as np

from sciml.errors import ConfigError

__all__ = ["make_clouds"]


def make_clouds(n: int, seed: int, noise: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Unpaired source (Gaussian) and target (Swiss roll) clouds, each (n, 2), float64.

    Parameters
    ----------
    n : points per cloud
    seed : seeds a ``numpy.random.Generator``
    noise : std of the Gaussian jitter on the roll (in standardised units)
    """
    if n < 1:
        raise ConfigError(f"n must be >= 1; got {n}")
    rng = np.random.default_rng(seed)
    source = rng.standard_normal((n, 2))
    t = 1.5 * np.pi * (1.0 + 2.0 * rng.uniform(size=n))
    roll = np.stack([t * np.cos(t), t * np.sin(t)], -1)
    roll = (roll - roll.mean(0)) / roll.std(0)
    return source, roll + noise * rng.standard_normal((n, 2))

