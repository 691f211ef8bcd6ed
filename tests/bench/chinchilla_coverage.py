"""Coverage of Chinchilla's default 95% intervals: before (i.i.d. Huber) vs now (sandwich).

Simulated sweeps of real size (240 runs, N log-uniform in 7e7-1.6e10, D in 5e9-5e11, the law of
Hoffmann et al.) with Student-t(3) log-noise of scale 0.01·exp(tilt·z), z the standardised
log N: tilt 0 is i.i.d. heavy-tailed noise (issue 16's test), tilt ±0.7 makes small or large
models up to ~3× noisier. Each draw is fitted once; "before" is the interval the service
reported until now (robust.huber_covariance, exp-mapped for E, A, B, t(n-5) quantile), "now"
is the default interval of ``fit_chinchilla`` as returned (interval_method "sandwich").
Target (issue 16): 90-98% for each of E, A, B, alpha, beta.

    .venv/bin/python -m tests.bench.chinchilla_coverage                 # 200 draws per tilt
    .venv/bin/python -m tests.bench.chinchilla_coverage --readme        # + SEs vs a 2,000 bootstrap
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from services.fitting.limits import FitLimits
from services.fitting.models.chinchilla import fit_chinchilla, log_loss_and_gradient
from services.fitting.robust import huber_covariance
from services.fitting.uncertainty import t_quantile

TRUTH = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
TRUTH["a"] = TRUTH["beta"] / (TRUTH["alpha"] + TRUTH["beta"])
TRUTH["b"] = TRUTH["alpha"] / (TRUTH["alpha"] + TRUTH["beta"])
TRUTH["G"] = ((TRUTH["alpha"] * TRUTH["A"]) / (TRUTH["beta"] * TRUTH["B"])) ** (
    1 / (TRUTH["alpha"] + TRUTH["beta"])
)
PARAMS = ("E", "A", "B", "alpha", "beta")
# θ = (log A, log B, log E, alpha, beta): index of each reported parameter, log-mapped or not.
THETA = {"A": (0, True), "B": (1, True), "E": (2, True), "alpha": (3, False), "beta": (4, False)}
README_N = [7e7] * 4 + [3e8] * 4 + [1.2e9] * 4 + [4e9] * 4 + [1.6e10] * 4
README_D = [5e9, 2e10, 1e11, 5e11] * 5
README_LOSS = [
    3.3546, 3.1003, 2.9058, 2.7819, 3.0133, 2.7591, 2.5646, 2.4407, 2.813, 2.5588,
    2.3643, 2.2404, 2.7013, 2.447, 2.2525, 2.1286, 2.6182, 2.364, 2.1695, 2.0456,
]  # fmt: skip


def sweep(seed: int, tilt: float, n: int = 240) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of a sweep with heteroskedastic (tilt ≠ 0) Student-t(3) log-noise."""
    rng = np.random.default_rng(seed)
    N = np.exp(rng.uniform(math.log(7e7), math.log(1.6e10), n))
    D = np.exp(rng.uniform(math.log(5e9), math.log(5e11), n))
    z = (np.log(N) - np.log(N).mean()) / np.log(N).std()
    law = TRUTH["E"] + TRUTH["A"] / N ** TRUTH["alpha"] + TRUTH["B"] / D ** TRUTH["beta"]
    return N, D, law * np.exp(0.01 * np.exp(tilt * z) * rng.standard_t(3, n))


def coverage(tilt: float, draws: int) -> tuple[dict[str, float], dict[str, float], float]:
    """Fraction of draws whose 95% interval covers the truth: (before, now, seconds per fit)."""
    before = dict.fromkeys(PARAMS, 0)
    now = dict.fromkeys(TRUTH, 0)
    spent = 0.0
    for s in range(draws):
        N, D, L = sweep(5000 + s, tilt)
        t0 = time.perf_counter()
        r = fit_chinchilla(N, D, L)
        spent += time.perf_counter() - t0
        est = {**r.params, **r.derived}
        for k in TRUTH:
            now[k] += est[k].ci95[0] <= TRUTH[k] <= est[k].ci95[1]
        p = r.params
        logs = [math.log(p[k].value) for k in ("A", "B", "E")]
        theta = np.array([*logs, p["alpha"].value, p["beta"].value])
        pred, J = log_loss_and_gradient(theta, np.log(N), np.log(D))
        se = np.sqrt(np.diag(huber_covariance(J, pred - np.log(L), 1e-3)))
        t = t_quantile(N.size - 5)
        for k, (i, logged) in THETA.items():
            truth = math.log(TRUTH[k]) if logged else TRUTH[k]
            before[k] += abs(theta[i] - truth) <= t * se[i]
    return (
        {k: v / draws for k, v in before.items()},
        {k: v / draws for k, v in now.items()},
        spent / draws,
    )


def readme_vs_bootstrap(resamples: int) -> None:
    """Default standard errors on the README example against a large case bootstrap."""
    default = fit_chinchilla(README_N, README_D, README_LOSS)
    t0 = time.perf_counter()
    boot = fit_chinchilla(
        README_N, README_D, README_LOSS, bootstrap=resamples, seed=11,
        limits=FitLimits(max_bootstrap=resamples, time_budget_s=3600.0),
    )  # fmt: skip
    print(
        f"\nREADME example: default ({default.interval_method}) vs {resamples}-resample "
        f"bootstrap ({boot.bootstrap_failed} failed, {time.perf_counter() - t0:.0f} s)"
    )
    print(f"{'param':6s} {'value':>10s} {'default se':>11s} {'bootstrap se':>13s} {'ratio':>6s}")
    ours, theirs = {**default.params, **default.derived}, {**boot.params, **boot.derived}
    for k, e in ours.items():
        ratio = e.stderr / theirs[k].stderr
        print(f"{k:6s} {e.value:10.4g} {e.stderr:11.3g} {theirs[k].stderr:13.3g} {ratio:6.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--tilts", type=float, nargs="+", default=[0.0, -0.7, 0.7])
    ap.add_argument("--readme", action="store_true", help="also compare SEs with a bootstrap")
    ap.add_argument("--resamples", type=int, default=2000)
    args = ap.parse_args()
    fit_chinchilla(*sweep(0, 0.0))  # compile / load the kernels outside the timing
    for tilt in args.tilts:
        before, now, per_fit = coverage(tilt, args.draws)
        print(
            f"\nt(3) noise, scale 0.01·exp({tilt:+.1f}·z), 240 runs, {args.draws} draws "
            f"({per_fit:.3f} s per fit): coverage of 95% intervals (target 0.90-0.98)"
        )
        print(f"{'param':6s} {'before':>8s} {'now':>8s}")
        for k in TRUTH:
            b = f"{before[k]:8.3f}" if k in before else f"{'-':>8s}"
            print(f"{k:6s} {b} {now[k]:8.3f}")
    if args.readme:
        readme_vs_bootstrap(args.resamples)


if __name__ == "__main__":
    main()
