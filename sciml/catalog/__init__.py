"""The data catalog: dataset names -> versioned zarr stores (validated, with provenance); models.

``data_catalog.yaml`` (in the spirit of Kedro's and Intake's catalogs) declares every dataset a
flow reads or writes: its ``path`` relative to the data directory (``SCIML_DATA_DIR``, default
``./data``) or an fsspec URL, a ``description``, the ``producer`` flow, and the ``dims`` and
``variables`` a store must hold; entries of ``kind: figure`` declare the PNG figures flows write.
Only this package turns a name into a path.

- :mod:`~sciml.catalog.entries`: parsing and checking the catalog file;
- :mod:`~sciml.catalog.catalog`: :class:`Catalog`, datasets and figures by name;
- :mod:`~sciml.catalog.versioned_store`: every write one Icechunk commit, every version readable;
- :mod:`~sciml.catalog.zarr_store`: zarr encoding of datasets, whole-file writes of figures;
- :mod:`~sciml.catalog.events`: commit events for listeners (the orchestrator's triggers);
- :mod:`~sciml.catalog.registry`: :class:`ModelRegistry`, immutable model versions and a champion;
- :mod:`~sciml.catalog.provenance`: the provenance attrs every store carries.
"""

from sciml.catalog.catalog import Catalog, default_catalog_path
from sciml.catalog.entries import CatalogEntry
from sciml.catalog.provenance import config_hash, git_revision, provenance_attrs
from sciml.catalog.registry import ModelRegistry

__all__ = [
    "Catalog",
    "CatalogEntry",
    "ModelRegistry",
    "config_hash",
    "default_catalog_path",
    "git_revision",
    "provenance_attrs",
]
