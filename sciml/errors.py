"""Typed exceptions of sciml-flows.

Every error names the offending input, its bad value and, where there is one, the fix. Each type
also subclasses the builtin a caller would naturally catch (as xarray's ``MergeError(ValueError)``).
"""

from __future__ import annotations

__all__ = [
    "SciMLError",
    "CatalogError",
    "DatasetNotFoundError",
    "SchemaError",
    "ModelNotFoundError",
    "ConfigError",
    "DataError",
    "DivergenceError",
    "UnknownNameError",
    "ConflictError",
    "ChampionMovedError",
    "StoreUnreachableError",
]


class SciMLError(Exception):
    """Base class of every error raised by sciml-flows."""


class CatalogError(SciMLError, ValueError):
    """The data catalog file is missing, malformed, or a path in it is unsafe."""


class DatasetNotFoundError(CatalogError, KeyError):
    """A dataset name is not in the catalog, or its store has not been written yet."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class SchemaError(CatalogError):
    """A dataset does not hold the dims/variables its catalog entry requires."""


class ModelNotFoundError(CatalogError, KeyError):
    """A model version (or the champion pointer) does not exist in the model registry."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ConfigError(SciMLError, ValueError):
    """A workflow configuration or profile is invalid."""


class DataError(SciMLError, ValueError):
    """Input data is malformed: NaN, wrong shape, wrong checksum, missing or non-numeric columns."""


class DivergenceError(SciMLError, ArithmeticError):
    """A fit or an integration diverged (loss or state became non-finite or blew up)."""


class UnknownNameError(SciMLError, KeyError):
    """An unknown identifier (system, problem, model...); the message lists close matches."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ConflictError(CatalogError):
    """Another writer committed to the same dataset or model first, and redoing the write did not help."""


class ChampionMovedError(ConflictError):
    """A compare-and-swap promotion found another champion than the one it compared against."""


class StoreUnreachableError(CatalogError, ConnectionError):
    """The store behind the data dir (an object store URL or a local path) cannot be reached."""


def unknown_name(kind: str, name: str, known: list[str] | tuple[str, ...]) -> UnknownNameError:
    """Build an :class:`UnknownNameError` that lists the closest known names."""
    import difflib

    close = difflib.get_close_matches(name, list(known), n=5, cutoff=0.5)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    shown = ", ".join(sorted(known)[:20]) + (" ..." if len(known) > 20 else "")
    return UnknownNameError(f"unknown {kind} {name!r}{hint} (known: {shown})")
