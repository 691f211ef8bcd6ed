"""Emergence verdicts against simulated ground truth and on real benchmark tables.

``python -m tests.bench.emergence_report`` prints the confusion matrix (truth × verdict,
per number of sizes) over binomial draws of known curves, and the verdict of every real
series with >= 3 sizes in ``tests/data``. The unit tests import the same simulation and
data readers, so the printed figures are the tested ones.
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import special

from services.fitting.emergence.evidence import fit_laws, gather
from services.fitting.emergence.series import validate_series
from services.fitting.emergence.verdict import VERDICTS, decide
from services.fitting.limits import DEFAULT_LIMITS

DATA = Path(__file__).resolve().parents[1] / "data"
SIZE_COUNTS = (3, 4, 5, 8)
X_RANGE = (8.0, 11.0)  # 1e8 .. 1e11 parameters: three decades, as real families span
CHANCE = 0.25


@dataclass(frozen=True)
class Truth:
    """A known curve p(x) on log-size x, its floor, and how items are drawn."""

    name: str
    kind: str  # the verdict it should get: "flat", "smooth", "declining", "emergent", "?"
    floor: float
    curve: Callable[[np.ndarray, np.random.Generator], np.ndarray]
    items: tuple[int, int] = (500, 2000)


def _jump(width: float) -> Callable[[np.ndarray, np.random.Generator], np.ndarray]:
    """From chance to 0.5 above it by a logistic of 10–90% ``width`` decades, half-way
    placed at random so that >= 2 sizes sit before its 10% point when that is possible."""
    s = 2.0 * math.log(9.0) / width

    def curve(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        lo, hi = x[1] + 0.5 * width, x[-1] - 0.1 * width
        xh = rng.uniform(lo, hi) if hi > lo else 0.5 * (x[0] + x[-1])
        return np.asarray(CHANCE + 0.5 * special.expit(s * (x - xh)))

    return curve


TRUTHS = (
    Truth("flat at chance", "flat", CHANCE, lambda x, r: np.full_like(x, CHANCE)),
    Truth("flat near zero", "flat", 0.0, lambda x, r: np.full_like(x, 0.003)),
    Truth("power law to 0.9", "smooth", CHANCE,
          lambda x, r: 0.9 - 0.6 * 10.0 ** (-0.3 * (x - X_RANGE[0]))),
    Truth("linear in log", "smooth", CHANCE, lambda x, r: 0.3 + 0.1 * (x - X_RANGE[0])),
    Truth("falling", "declining", CHANCE, lambda x, r: 0.6 - 0.05 * (x - X_RANGE[0])),
    Truth("jump 0.5 decade", "emergent", CHANCE, _jump(0.5), items=(2000, 2000)),
    Truth("jump 1 decade", "emergent", CHANCE, _jump(1.0), items=(2000, 2000)),
    Truth("sigmoid 2.5 decades", "?", CHANCE, _jump(2.5), items=(2000, 2000)),
)  # fmt: skip


def judge(
    scale: np.ndarray, score: np.ndarray, items: object, floor: float | None
) -> tuple[str, str]:
    """(verdict, reason) by the service's own rules, without the reporting extras."""
    s = validate_series(scale, score, floor=floor, ceiling=None, items=items,  # type: ignore[arg-type]
                        scale_kind="parameters", limits=DEFAULT_LIMITS)  # fmt: skip
    return decide(gather(s, fit_laws(s)))


def simulate(truth: Truth, n: int, draws: int, seed: int) -> Counter[str]:
    """Verdict counts over ``draws`` binomial draws of ``truth`` at ``n`` sizes."""
    x = np.linspace(*X_RANGE, n)
    rng = np.random.default_rng(seed)
    out: Counter[str] = Counter()
    for _ in range(draws):
        m = int(rng.integers(truth.items[0], truth.items[1] + 1))
        p = np.clip(truth.curve(x, rng), 0.0, 1.0)
        y = rng.binomial(m, p) / m
        out[judge(10.0**x, y, m, truth.floor)[0]] += 1
    return out


def confusion(draws: int, seed: int = 2024) -> dict[tuple[str, int], Counter[str]]:
    """Verdict counts for every truth and number of sizes."""
    return {
        (t.name, n): simulate(t, n, draws, seed + 97 * i + n)
        for i, t in enumerate(TRUTHS)
        for n in SIZE_COUNTS
    }


@dataclass(frozen=True)
class RealSeries:
    """One real per-size series from ``tests/data``."""

    name: str
    scale: list[float]
    score: list[float]
    items: list[float] | None
    floor: float | None


def real_series() -> list[RealSeries]:
    """Every task × family series of ``obs_scaling_by_family.csv`` and the LAMBADA and
    MMLU columns of ``lm_eval_zeroshot_by_size.csv``, with >= 3 rows."""
    groups: dict[str, list[dict[str, str]]] = {}
    with (DATA / "obs_scaling_by_family.csv").open() as fh:
        for r in csv.DictReader(fh):
            groups.setdefault(f"{r['task']}/{r['metric']}/{r['family']}", []).append(r)
    out = []
    for name, rows in groups.items():
        if len(rows) < 3:
            continue
        items = [float(r["items"]) for r in rows] if all(r["items"] for r in rows) else None
        floor = float(rows[0]["floor"]) if rows[0]["floor"] else None
        out.append(RealSeries(name, [float(r["params"]) for r in rows],
                              [float(r["score"]) for r in rows], items, floor))  # fmt: skip
    lm: dict[str, list[dict[str, str]]] = {}
    with (DATA / "lm_eval_zeroshot_by_size.csv").open() as fh:
        for r in csv.DictReader(fh):
            lm.setdefault(r["family"], []).append(r)
    for fam, rows in lm.items():
        scale = [float(r["params_nominal"]) for r in rows]
        out.append(
            RealSeries(
                f"lambada_openai/acc/{fam}",
                scale,
                [float(r["lambada_openai_acc"]) for r in rows],
                [5153.0] * len(rows),
                0.0,
            )
        )
        out.append(
            RealSeries(
                f"mmlu_zeroshot/acc/{fam}",
                scale,
                [float(r["mmlu57_unweighted_mean_acc"]) for r in rows],
                None,
                CHANCE,
            )
        )
    # the textbook case the issue names: GPT-3 5-shot MMLU (Hendrycks et al. 2021, table 1)
    out.append(
        RealSeries(
            "mmlu/5shot/GPT-3 (paper)",
            [2.7e9, 6.7e9, 1.3e10, 1.75e11],
            [0.259, 0.249, 0.260, 0.439],
            [14042.0] * 4,
            CHANCE,
        )
    )
    return sorted(out, key=lambda r: r.name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--draws", type=int, default=200)
    args = ap.parse_args()
    t0 = time.perf_counter()
    table = confusion(args.draws)
    print(f"Confusion matrix: {args.draws} draws per cell, sizes evenly spaced over 1e8..1e11, "
          f"items 500-2000 (jumps 2000)  [{time.perf_counter() - t0:.1f} s]")  # fmt: skip
    head = f"{'truth':22s} {'n':>2s} " + " ".join(f"{v:>12s}" for v in VERDICTS)
    print(head)
    for (name, n), c in table.items():
        print(f"{name:22s} {n:2d} " + " ".join(f"{c[v] / args.draws:12.1%}" for v in VERDICTS))
    print()
    from services.fitting.emergence import fit_emergence

    print(f"{'series':52s} {'n':>2s} {'verdict':12s} reason")
    for r in real_series():
        e = fit_emergence(r.scale, r.score, items=r.items, floor=r.floor)
        print(f"{r.name:52s} {e.sizes:2d} {e.verdict:12s} {e.reason[:150]}")


if __name__ == "__main__":
    main()
