"""Typed settings of a workflow: one pydantic model whose field defaults are the ``fast`` profile.

Every workflow's settings class (``ProbConservConfig``, ...) subclasses :class:`Settings` and lists
its named profiles in ``PROFILES`` (``"fast"``: the defaults; ``"paper"``: the paper's scale;
``"tiny"``: for tests). The same settings give the same arrays: every seed derives from ``seed``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sciml.errors import ConfigError

__all__ = ["Settings"]


class Settings(BaseModel):
    """Base of every workflow's typed settings; fields carry the embedded ``fast`` defaults.

    Subclasses set ``PROFILES = {"fast": {}, "paper": {...overrides}}`` (and may add ``tiny``
    for tests); :meth:`for_profile` builds one. Instances are frozen and reject unknown fields.
    Wherever settings are given as a mapping (a Prefect deployment's ``config`` parameter, say),
    the key ``profile`` names the profile the other keys override:
    ``{"profile": "paper", "seed": 3}``.

    Examples
    --------
    >>> class Demo(Settings):
    ...     width: int = 8
    ...     PROFILES = {"fast": {}, "paper": {"width": 128}}
    >>> Demo.for_profile("paper").width
    128
    >>> Demo.for_profile("paper", width=64).width
    64
    >>> Demo.model_validate({"profile": "paper", "seed": 3}).width
    128
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    PROFILES: ClassVar[dict[str, dict[str, Any]]] = {"fast": {}}

    seed: int = 0
    # declared so that a deployment's parameter schema admits it; consumed by _apply_profile
    # (never stored, never part of the config's JSON or hash)
    profile: str | None = Field(
        None, exclude=True, description="profile whose values the other keys override (fast, paper, ...)"
    )

    @model_validator(mode="before")
    @classmethod
    def _apply_profile(cls, data: Any) -> Any:
        """``{"profile": name, **overrides}`` -> the profile's values under the overrides."""
        if not isinstance(data, dict) or "profile" not in data:
            return data
        data = dict(data)
        name = data.pop("profile")
        if name not in cls.PROFILES:
            raise ConfigError(
                f"unknown profile {name!r} for {cls.__name__}; known: {sorted(cls.PROFILES)}"
            )
        return {**cls.PROFILES[name], **data}

    @classmethod
    def for_profile(cls, profile: str = "fast", **overrides: Any) -> Self:
        """The settings of ``profile`` with ``overrides`` applied; unknown profiles raise ConfigError."""
        if profile not in cls.PROFILES:
            raise ConfigError(
                f"unknown profile {profile!r} for {cls.__name__}; known: {sorted(cls.PROFILES)}"
            )
        return cls(**{**cls.PROFILES[profile], **overrides})

    def config_json(self) -> str:
        """The settings as canonical JSON (sorted keys)."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True)

    def config_hash(self) -> str:
        """Stable 16-hex-digit hash of the settings (same settings -> same hash)."""
        return hashlib.sha256(self.config_json().encode()).hexdigest()[:16]
