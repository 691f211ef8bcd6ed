"""Newman–Ziff engine: agreement with direct sampling, exact weights, determinism, merging."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from scipy import stats

from services.common.errors import InvalidArgument, LimitExceeded
from services.simulation.graphs import sample_graph
from services.simulation.kernels import newman_ziff as nz
from services.simulation.limits import Limits
from services.simulation.models import DegreeDistribution
from services.simulation.sweeps import (
    Grid,
    merge_batches,
    plan_sweep,
    summarize,
    sweep,
    sweep_batch,
    window_cells,
)

POISSON3 = DegreeDistribution("poisson", mean=3.0)

# model, size fields, control for sweep, direct-sampling control fields
CASES: list[tuple[str, dict[str, Any], float, dict[str, Any]]] = [
    ("erdos_renyi", {"n": 2000}, 1.2, {"c": 1.2}),
    ("erdos_renyi", {"n": 300}, 3.0, {"c": 3.0}),
    ("erdos_renyi_gnm", {"n": 2000}, 1.2, {"m": 1200}),
    ("configuration", {"n": 2000, "degrees": POISSON3}, 0.4, {"phi": 0.4}),
    ("square_lattice_site", {"L": 32}, 0.6, {"p": 0.6}),
    ("square_lattice_bond", {"L": 32}, 0.5, {"p": 0.5}),
]


@pytest.mark.parametrize(("model", "size", "control", "direct"), CASES)
def test_newman_ziff_agrees_with_direct_sampling_at_the_same_control(
    model: str, size: dict[str, Any], control: float, direct: dict[str, Any]
) -> None:
    """Two-sample z-test (|z| < 4) on the mean largest fraction, second largest and clusters."""
    nz_reps, direct_reps = 400, 1500
    res = sweep(model, **size, grid=Grid(values=(control,)), replicates=nz_reps, seed=17)
    ref = sample_graph(model, **size, **direct, replicates=direct_reps, seed=18)
    nodes = ref.nodes
    direct_cols = {
        0: ref.table[:, 1] / nodes,
        2: ref.table[:, 2] / nodes,
        6: ref.table[:, 3] / nodes,
    }
    for col, values in direct_cols.items():
        per_rep = res.moments[:, 0, col]
        se = np.hypot(
            per_rep.std(ddof=1) / np.sqrt(nz_reps), values.std(ddof=1) / np.sqrt(direct_reps)
        )
        z = (per_rep.mean() - values.mean()) / se
        assert abs(z) < 4, (nz.MOMENTS[col], per_rep.mean(), values.mean())
    # the canonical spread of S equals the spread between direct realizations
    assert res.points[0].largest_fraction.std == pytest.approx(
        (ref.table[:, 1] / nodes).std(), rel=0.15
    )


@pytest.mark.parametrize("M", [1, 40, 5_000, 2_000_000])
@pytest.mark.parametrize("q", [0.0, 1e-6, 0.03, 0.5, 0.97, 1.0])
def test_binomial_windows_reproduce_scipy_pmf(M: int, q: float) -> None:
    lo, hi, w0, A, B = nz.binomial_windows(M, np.array([q]))
    m = np.arange(lo[0], hi[0] + 1)
    w = np.empty(len(m))
    w[0] = w0[0]
    for i in range(1, len(m)):  # the kernel's recurrence w(m+1) = w(m)(A - B m)/(m + 1)
        w[i] = w[i - 1] * (A[0] - B[0] * m[i - 1]) / (m[i - 1] + 1.0)
    law = stats.binom(M, q)
    assert law.cdf(lo[0] - 1) + law.sf(hi[0]) < 1e-15  # the window holds all the mass
    np.testing.assert_allclose(w / w.sum(), law.pmf(m), rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("lam", [0.5, 30.0, 2.0e5, 3.0e7])
def test_poisson_windows_reproduce_scipy_pmf(lam: float) -> None:
    lo, hi, w0, A, B = nz.poisson_windows(np.array([lam]))
    m = np.arange(lo[0], hi[0] + 1)
    ratios = (A[0] - B[0] * m[:-1]) / (m[:-1] + 1.0)
    w = w0[0] * np.concatenate([[1.0], np.cumprod(ratios)])
    law = stats.poisson(lam)
    assert law.cdf(lo[0] - 1) + law.sf(hi[0]) < 1e-15
    # scipy's pmf = exp(k log λ - λ - lgamma(k + 1)) itself loses ~λ·1e-16 to cancellation
    rtol = max(1e-9, 1e-14 * lam)
    np.testing.assert_allclose(w / w.sum(), law.pmf(m), rtol=rtol, atol=1e-300)


def test_batches_merge_bit_identically_in_any_split() -> None:
    kwargs: dict[str, Any] = {"n": 5000, "grid": Grid(0.0, 3.0, 13), "replicates": 9, "seed": 4}
    whole = sweep(**kwargs)
    parts = [
        sweep_batch(**kwargs, first=0, count=2),
        sweep_batch(**kwargs, first=6, count=3),
        sweep_batch(**kwargs, first=2, count=4),
    ]
    merged = summarize(merge_batches(parts))
    assert merged == whole
    assert merged.moments.tobytes() == whole.moments.tobytes()
    with ThreadPoolExecutor(max_workers=2) as pool:
        assert sweep(**kwargs, executor=pool).moments.tobytes() == whole.moments.tobytes()
    with pytest.raises(InvalidArgument):
        merge_batches([parts[0], parts[1]])  # a gap at replicate 2


def test_progress_reports_every_replicate_once_in_order() -> None:
    seen: list[tuple[int, int]] = []
    sweep(
        "square_lattice_bond",
        L=16,
        grid=Grid(0.3, 0.7, 5),
        replicates=37,
        seed=1,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert [t for _, t in seen] == [37] * len(seen)
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[-1] == 37 and len(set(done)) == len(done)


_DIGEST = (
    "import hashlib; from services.simulation.sweeps import Grid, sweep; "
    "from services.simulation.models import DegreeDistribution as D; "
    "kw = dict(replicates=6, seed=9, max_workers={w}); "
    "rs = [sweep('erdos_renyi', n=20000, grid=Grid(0, 3, 31), **kw), "
    "sweep('configuration', n=5000, degrees=D('poisson', mean=2.0), grid=Grid(0, 1, 11), **kw), "
    "sweep('square_lattice_site', L=48, grid=Grid(0.4, 0.8, 9), **kw)]; "
    "print(hashlib.sha256(b''.join(r.moments.tobytes() for r in rs)).hexdigest())"
)


def test_same_seed_same_bytes_with_one_and_two_numba_threads() -> None:
    digests = set()
    for threads, workers in [("1", 1), ("2", 2)]:
        env = {**os.environ, "NUMBA_NUM_THREADS": threads}
        out = subprocess.run(
            [sys.executable, "-c", _DIGEST.replace("{w}", str(workers))],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=240,
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_er_sweep_convolution_interpolates_between_realizations() -> None:
    # S(c) of one replicate is a smooth, nondecreasing canonical average: the giant never
    # shrinks as c grows, and clusters per node never grow
    res = sweep(n=3000, grid=Grid(0.0, 5.0, 101), replicates=1, seed=3)
    s = res.moments[0, :, 0]
    k = res.moments[0, :, 6]
    assert np.all(np.diff(s) >= -1e-12) and np.all(np.diff(k) <= 1e-12)
    assert s[0] == pytest.approx(1 / 3000) and k[0] == pytest.approx(1.0)


def field_of(**kwargs: Any) -> str:
    kwargs.setdefault("seed", 1)
    with pytest.raises(InvalidArgument) as info:
        sweep(**kwargs)
    return info.value.violations[0].field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n": 100, "grid": Grid(0, 2)}, "grid.points"),
        ({"n": 100, "grid": Grid(2, 1, 5)}, "grid.stop"),
        ({"n": 100, "grid": Grid(0, 200, 5)}, "grid.stop"),
        ({"n": 100, "grid": Grid(-1, 2, 5)}, "grid.start"),
        ({"n": 100, "grid": Grid(0, 2, 0)}, "grid.points"),
        ({"n": 100, "grid": Grid(values=())}, "grid.values"),
        ({"n": 100, "grid": Grid(values=(1.0, float("nan")))}, "grid.values[1]"),
        ({"n": 100, "grid": Grid(0, 1, 3, values=(1.0,))}, "grid.start"),
        (
            {"model": "configuration", "n": 100, "degrees": POISSON3, "grid": Grid(0, 1.5, 3)},
            "grid.stop",
        ),
        ({"model": "square_lattice_site", "L": 8, "grid": Grid(0, 1.5, 3)}, "grid.stop"),
        ({"n": 100, "grid": Grid(0, 2, 5), "replicates": 0}, "replicates"),
        ({"n": 100, "grid": Grid(0, 2, 5), "seed": -3}, "seed"),
    ],
)
def test_bad_sweeps_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    assert field_of(**kwargs) == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n": 100, "grid": Grid(0, 2, 51)}, "grid.points"),
        ({"n": 100, "grid": Grid(values=tuple(range(51)))}, "grid.values"),
        ({"n": 100, "grid": Grid(0, 2, 50), "replicates": 5}, "replicates"),
        ({"model": "square_lattice_bond", "L": 65, "grid": Grid(0, 1, 3)}, "L"),
        ({"n": 5000, "grid": Grid(0, 2, 3), "replicates": 3}, "replicates"),
    ],
)
def test_sweep_limits_are_refused(kwargs: dict[str, Any], field: str) -> None:
    limits = Limits(max_side=64, max_points=50, max_work=16_000, max_cells=200)
    with pytest.raises(LimitExceeded) as info:
        sweep(**kwargs, seed=1, limits=limits)
    assert info.value.violations[0].field == field


@pytest.mark.parametrize(
    ("model", "kwargs"),
    [
        ("erdos_renyi", {"n": 20_000, "grid": Grid(0.0, 4.0, 30)}),
        ("square_lattice_site", {"L": 64, "grid": Grid(0.5, 0.7, 21)}),
        ("square_lattice_bond", {"L": 64, "grid": Grid(0.4, 0.6, 21)}),
    ],
)
def test_window_cells_counts_the_weights_the_pass_builds(model: str, kwargs: dict) -> None:
    """The memory bound is checked on exactly the table the kernels build."""
    plan = plan_sweep(model, **{"n": None, "L": None, **kwargs}, degrees=None, replicates=1,
                      seed=1, limits=Limits())  # fmt: skip
    xs = np.asarray(plan.controls)
    if model == "erdos_renyi":
        *_, weights = nz.er_weights(plan.substrate.nodes, xs)
    else:
        bonds = plan.substrate.nodes * (1 if model == "square_lattice_site" else 2)
        *_, weights = nz.binomial_weights(bonds, xs)
    assert window_cells(plan) == weights.shape[0]


def test_a_grid_whose_weights_exceed_the_memory_limit_is_refused() -> None:
    limits = Limits(max_window_cells=100_000)
    with pytest.raises(LimitExceeded) as info:
        sweep(n=1_000_000, grid=Grid(0.0, 4.0, 50), seed=1, limits=limits)
    assert info.value.violations[0].field == "grid.points"
    assert "convolution weights" in str(info.value)
