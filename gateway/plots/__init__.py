"""SVG plots of computing results (matplotlib, server side): ``svg_for(method, result)``.

One renderer per upstream method, each a plain function of the result JSON (and the request
JSON, where the data plotted live only in the request). The API answers ``Accept:
image/svg+xml`` with these, and the /ui page shows the same pictures.
"""

from __future__ import annotations

from gateway.plots.render import RENDERERS, SVG, svg_for

__all__ = ["RENDERERS", "SVG", "svg_for"]
