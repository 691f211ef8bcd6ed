"""Read plotted series back from the SVGs matplotlib writes (``<g id=gid>`` per artist)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np

NS = {"svg": "http://www.w3.org/2000/svg", "xlink": "http://www.w3.org/1999/xlink"}
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


def parse(svg: bytes | str) -> ET.Element:
    """The document's root; raises on anything that is not well-formed SVG."""
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg", root.tag
    return root


def groups(root: ET.Element, gid: str) -> list[ET.Element]:
    """Every ``<g>`` with this id (matplotlib repeats it for artists sharing a gid)."""
    return [g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("id") == gid]


def line_vertices(root: ET.Element, gid: str, index: int = 0) -> np.ndarray:
    """(k, 2) pixel vertices of the ``index``-th line path drawn with ``gid``."""
    found = groups(root, gid)
    assert found, f"nothing drawn as {gid}"
    g = found[index]
    path = g.find(".//svg:path", NS)
    assert path is not None, gid
    values = [float(v) for v in NUMBER.findall(path.get("d", ""))]
    return np.array(values).reshape(-1, 2)


def band_vertices(root: ET.Element, gid: str) -> np.ndarray:
    """(k, 2) pixel vertices of a filled band (``fill_between``): matplotlib writes its path
    once in ``<defs>`` and places it with a ``<use>`` offset, added back here."""
    found = groups(root, gid)
    assert found, f"nothing drawn as {gid}"
    path = found[0].find("svg:defs/svg:path", NS)
    use = found[0].find(".//svg:use", NS)
    assert path is not None and use is not None, gid
    values = np.array([float(v) for v in NUMBER.findall(path.get("d", ""))]).reshape(-1, 2)
    return values + np.array([float(use.get("x", 0)), float(use.get("y", 0))])


def marker_positions(root: ET.Element, gid: str) -> np.ndarray:
    """(k, 2) pixel positions of the markers drawn with ``gid`` (``<use>`` elements)."""
    uses = [u for g in groups(root, gid) for u in g.iter("{http://www.w3.org/2000/svg}use")]
    return np.array([[float(u.get("x", 0)), float(u.get("y", 0))] for u in uses]).reshape(-1, 2)


def affine_error(data: np.ndarray, pixels: np.ndarray) -> float:
    """Largest deviation (pixels) of ``pixels`` from the best affine map of ``data``: ~0
    when the drawing is exactly these values on a linear axis (pass log10 for a log one)."""
    design = np.column_stack([data, np.ones_like(data)])
    coef, *_ = np.linalg.lstsq(design, pixels, rcond=None)
    assert abs(coef[0]) > 1e-9, "flat map: the values are not what is plotted"
    return float(np.max(np.abs(design @ coef - pixels)))
