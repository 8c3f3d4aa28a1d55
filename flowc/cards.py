"""Card components for flows written for flowc: ``from flowc.cards import Markdown``
(flows written for Metaflow import the same names from ``metaflow.cards``)."""

from flowc.runtime.cards import (  # noqa: F401
    Artifact, Error, Image, Markdown, MetaflowCardComponent, ProgressBar, Table, UserComponent, VegaChart,
)

__all__ = ["Artifact", "Error", "Image", "Markdown", "MetaflowCardComponent", "ProgressBar", "Table",
           "UserComponent", "VegaChart"]
