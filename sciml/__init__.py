"""sciml-flows: scientific ML with UQ (science layer; never imports Prefect)."""

__version__ = "0.1.0"
