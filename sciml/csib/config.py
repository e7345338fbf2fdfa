r"""Settings of the CS-IB experiment: one typed pydantic model, its profiles and the model names.

Yu, Yu, Løkse, Jenssen & Principe, "Cauchy-Schwarz Divergence Information Bottleneck for
Regression", ICLR 2024 (arXiv:2404.17951), Sec. 5.1 (datasets, network, training). The recipe
that reads them is :mod:`sciml.csib.experiment`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from sciml.csib.data import DATASETS
from sciml.csib.table import TABLE, TableSettings
from sciml.settings import Settings

__all__ = ["BETA_FREE", "MODELS", "CSIBConfig"]

#: every model, in the order of the results: the first four have no compression term and
#: separate what CS-IB's gain is made of (squared error; the same deterministic net with a Huber
#: and a Welsch loss; CS-IB's prediction term at beta = 0), then CS-IB and the IB baselines
MODELS: tuple[str, ...] = ("mse", "huber", "welsch", "csib_beta0", "csib", "vib", "nib", "hsic")
#: models trained without a compression term: one run per (dataset, split, seed), repeated along beta
BETA_FREE: tuple[str, ...] = ("mse", "huber", "welsch", "csib_beta0")

Dataset = Literal["california_housing", "bike_sharing", "beijing_pm25", "appliances_energy"]
Model = Literal["mse", "huber", "welsch", "csib_beta0", "csib", "vib", "nib", "hsic"]


class CSIBConfig(Settings):
    """CS-IB experiment grid (fast defaults: every dataset subsampled to ``max_rows`` rows).

    ``paper``: full datasets, 5 repeated random splits x 3 seeds, beta in {1e-3, 1e-2, 1e-1, 1},
    100 epochs (patience 10). ``seed`` is the first model seed; ``n_seeds`` consecutive seeds
    are run on each of ``n_splits`` splits: split 0 is the stored one (``split_seed``), splits
    1, 2, ... are re-drawn from ``split_seed`` (:func:`sciml.csib.datasets.resplit`), and every
    model and seed sees the same splits, so differences between models are paired.

    ``data`` (:class:`~sciml.csib.table.TableSettings`) names a table of the user's (CSV or
    Parquet) and its target; the experiment then runs on that table (dataset label ``table``,
    catalog dataset ``csib/table``) instead of the shipped ``datasets``. Its keys may be given
    nested (``{"data": {"path": ..., "target": ...}}``, a deployment's parameters) or dotted
    (``{"data.path": ..., "data.target": ...}``, as ``sciml run csib --set data.path=...``).
    """

    datasets: tuple[Dataset, ...] = tuple(DATASETS)  # type: ignore[assignment]
    data: TableSettings | None = Field(
        None, description="a table of yours (CSV or Parquet): run on it instead of the shipped datasets"
    )
    models: tuple[Model, ...] = MODELS  # type: ignore[assignment]
    betas: tuple[float, ...] = (0.01, 0.1)
    n_seeds: int = Field(1, ge=1)
    n_splits: int = Field(1, ge=1)
    split_seed: int = 0
    max_rows: int | None = Field(2000, ge=50)
    max_epochs: int = Field(15, ge=1)
    patience: int = Field(5, ge=1)
    batch_size: int = Field(256, ge=8)
    lr: float = Field(1e-3, gt=0)
    d_t: int = Field(16, ge=1)
    enc_hidden: tuple[int, ...] = (128, 128)
    dec_hidden: tuple[int, ...] = (128,)
    noise_std: float = Field(0.1, gt=0)
    sigma_x: float = Field(0.25, gt=0)
    sigma_y: float = Field(2.0, gt=0)
    epsilons: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2)
    pgd_steps: int = Field(10, ge=1)
    retrain_beta: float = Field(0.1, ge=0)

    PROFILES = {
        "fast": {},
        "paper": {
            "max_rows": None,
            "n_splits": 5,
            "n_seeds": 3,
            "betas": (0.001, 0.01, 0.1, 1.0),
            "max_epochs": 100,
            "patience": 10,
        },
        "tiny": {
            "datasets": ("bike_sharing", "beijing_pm25"),
            "betas": (0.1,),
            "max_rows": 300,
            "max_epochs": 2,
            "patience": 2,
            "batch_size": 64,
            "enc_hidden": (16,),
            "dec_hidden": (16,),
            "d_t": 4,
            "epsilons": (0.0, 0.1),
            "pgd_steps": 2,
        },
    }

    @model_validator(mode="before")
    @classmethod
    def _dotted_keys(cls, data: object) -> object:
        """``{"data.path": p}`` -> ``{"data": {"path": p}}`` (merged into a ``data`` mapping)."""
        if not isinstance(data, dict) or not any(isinstance(k, str) and "." in k for k in data):
            return data
        out: dict = {}
        for key, value in data.items():
            head, dot, rest = key.partition(".") if isinstance(key, str) else (key, "", "")
            if not dot or head not in cls.model_fields:
                out[key] = value  # an unknown key: rejected by name (extra="forbid")
                continue
            sub = out.get(head, data.get(head))
            sub = sub.model_dump() if isinstance(sub, TableSettings) else dict(sub or {})
            sub[rest] = value
            out[head] = sub
        return out

    @field_validator("datasets", "models", "betas", "epsilons", "enc_hidden", "dec_hidden", mode="before")
    @classmethod
    def _one_or_more(cls, v: object) -> object:
        """One value is a tuple of one (``--set models=csib``)."""
        return (v,) if isinstance(v, str | int | float) and not isinstance(v, bool) else v

    @field_validator("max_rows", mode="before")
    @classmethod
    def _all_rows(cls, v: object) -> object:
        """``--set max_rows=none`` (or ``all``) keeps every row."""
        return None if isinstance(v, str) and v.strip().lower() in ("none", "null", "all") else v

    @field_validator("betas", "epsilons")
    @classmethod
    def _non_negative(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if not v or any(b < 0 for b in v):
            raise ValueError(f"needs at least one value, all >= 0; got {v}")
        return tuple(sorted(set(float(b) for b in v)))

    @model_validator(mode="after")
    def _one_declared_split(self) -> CSIBConfig:
        if self.data is not None and self.data.split_column is not None and self.n_splits > 1:
            raise ValueError(f"data.split_column {self.data.split_column!r} fixes the split; "
                             f"n_splits={self.n_splits} would re-draw it: set n_splits=1")  # fmt: skip
        return self

    def seeds(self) -> list[int]:
        """The model seeds: ``n_seeds`` consecutive seeds from ``seed``."""
        return [self.seed + i for i in range(self.n_seeds)]

    def splits(self) -> list[int]:
        """The repeated-split numbers ``0, ..., n_splits - 1`` (0: the stored split)."""
        return list(range(self.n_splits))

    def dataset_names(self) -> tuple[str, ...]:
        """The datasets this run trains on: ``("table",)`` with ``data``, else ``datasets``."""
        return (TABLE,) if self.data is not None else tuple(self.datasets)

    def target_units(self) -> dict[str, str]:
        """Units of the modelled target of every dataset of :meth:`dataset_names`."""
        return {d: self.data.units if d == TABLE and self.data is not None else DATASETS[d].target_units
                for d in self.dataset_names()}  # fmt: skip
