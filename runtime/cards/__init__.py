"""Cards: what a step shows of itself, rendered by the task that ran it and
stored beside it in the datastore (runtime/card_store.py). The components
are Metaflow's (``from metaflow.cards import Markdown`` works in a flow run
by flowc); ``flowc card`` and ``flowc ui`` read what the task stored."""

from .components import (
    Artifact, Error, Image, Markdown, MetaflowCardComponent, ProgressBar, Table, UserComponent, VegaChart,
)

__all__ = ["Artifact", "Error", "Image", "Markdown", "MetaflowCardComponent", "ProgressBar", "Table",
           "UserComponent", "VegaChart"]
