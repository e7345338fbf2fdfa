"""Typed settings of a workflow: one pydantic model whose field defaults are the ``fast`` profile.

Every workflow's settings class (``ProbConservConfig``, ...) subclasses :class:`Settings` and lists
its named profiles in ``PROFILES`` (``"fast"``: the defaults; ``"paper"``: the paper's scale;
``"tiny"``: for tests). The same settings give the same arrays: every seed derives from ``seed``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict

from sciml.errors import ConfigError

__all__ = ["Settings"]


class Settings(BaseModel):
    """Base of every workflow's typed settings; fields carry the embedded ``fast`` defaults.

    Subclasses set ``PROFILES = {"fast": {}, "paper": {...overrides}}`` (and may add ``tiny``
    for tests); :meth:`for_profile` builds one. Instances are frozen and reject unknown fields.

    Examples
    --------
    >>> class Demo(Settings):
    ...     width: int = 8
    ...     PROFILES = {"fast": {}, "paper": {"width": 128}}
    >>> Demo.for_profile("paper").width
    128
    >>> Demo.for_profile("paper", width=64).width
    64
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    PROFILES: ClassVar[dict[str, dict[str, Any]]] = {"fast": {}}

    seed: int = 0

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
