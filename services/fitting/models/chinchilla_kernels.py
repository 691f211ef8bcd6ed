"""Numba kernels of the Chinchilla objective: grid screening and Newton polishing.

Parameters θ = (a, b, e, alpha, beta); residual r_i = LSE(a - alpha·u_i, b - beta·v_i, e) - ℓ_i
with u = log N, v = log D, ℓ = log L; objective F(θ) = Σ_i huber_δ(r_i) (a sum, as in the
Besiroglu et al. 2024 replication code).

With z = (a - alpha·u, b - beta·v, e) and p = softmax(z):
    ∇r = (p1, p2, p3, -u·p1, -v·p2)
    ∇²r = Σ_k p_k m_k m_kᵀ - ∇r∇rᵀ,  m_1 = (1,0,0,-u,0), m_2 = (0,1,0,0,-v), m_3 = e_3
    ∇F = Σ ψ(r_i)∇r_i,  ∇²F = Σ 1{|r_i| <= δ}·∇r_i∇r_iᵀ + ψ(r_i)·∇²r_i.
"""

from __future__ import annotations

import numpy as np
from numba import njit

NPARAM = 5


@njit(cache=True, nogil=True)
def _huber(r: float, delta: float) -> float:
    a = abs(r)
    return 0.5 * r * r if a <= delta else delta * (a - 0.5 * delta)


@njit(cache=True, nogil=True)
def objective(
    theta: np.ndarray, u: np.ndarray, v: np.ndarray, ell: np.ndarray, delta: float
) -> float:
    """F(θ) = Σ huber(r_i). Cost O(n): three exp and one log per point."""
    a, b, e, al, be = theta[0], theta[1], theta[2], theta[3], theta[4]
    total = 0.0
    for i in range(u.size):
        z1 = a - al * u[i]
        z2 = b - be * v[i]
        m = max(z1, max(z2, e))
        lse = m + np.log(np.exp(z1 - m) + np.exp(z2 - m) + np.exp(e - m))
        total += _huber(lse - ell[i], delta)
    return total


@njit(cache=True, nogil=True)
def residuals_and_jacobian(
    theta: np.ndarray, u: np.ndarray, v: np.ndarray, ell: np.ndarray, r: np.ndarray, J: np.ndarray
) -> None:
    """Fill r (n,) with the log-space residuals and J (n, 5) with ∇r_i. Cost O(n)."""
    a, b, e, al, be = theta[0], theta[1], theta[2], theta[3], theta[4]
    for i in range(u.size):
        z1 = a - al * u[i]
        z2 = b - be * v[i]
        m = max(z1, max(z2, e))
        s1, s2, s3 = np.exp(z1 - m), np.exp(z2 - m), np.exp(e - m)
        s = s1 + s2 + s3
        r[i] = m + np.log(s) - ell[i]
        p1, p2, p3 = s1 / s, s2 / s, s3 / s
        J[i, 0] = p1
        J[i, 1] = p2
        J[i, 2] = p3
        J[i, 3] = -u[i] * p1
        J[i, 4] = -v[i] * p2


@njit(cache=True, nogil=True)
def objective_gradient_hessian(
    theta: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    ell: np.ndarray,
    delta: float,
    g: np.ndarray,
    H: np.ndarray,
) -> float:
    """F(θ), and ∇F, ∇²F written into g (5,) and H (5, 5). Cost O(25·n)."""
    a, b, e, al, be = theta[0], theta[1], theta[2], theta[3], theta[4]
    g[:] = 0.0
    H[:, :] = 0.0
    gr = np.empty(NPARAM)
    total = 0.0
    for i in range(u.size):
        ui, vi = u[i], v[i]
        z1 = a - al * ui
        z2 = b - be * vi
        m = max(z1, max(z2, e))
        s1, s2, s3 = np.exp(z1 - m), np.exp(z2 - m), np.exp(e - m)
        s = s1 + s2 + s3
        r = m + np.log(s) - ell[i]
        p1, p2, p3 = s1 / s, s2 / s, s3 / s
        ar = abs(r)
        inlier = ar <= delta
        total += 0.5 * r * r if inlier else delta * (ar - 0.5 * delta)
        psi = r if inlier else (delta if r > 0 else -delta)
        gr[0], gr[1], gr[2], gr[3], gr[4] = p1, p2, p3, -ui * p1, -vi * p2
        for j in range(NPARAM):
            g[j] += psi * gr[j]
        # ψ·Σ_k p_k m_k m_kᵀ (only the nonzero entries), then (1{inlier} - ψ)·∇r∇rᵀ.
        w1, w2, w3 = psi * p1, psi * p2, psi * p3
        H[0, 0] += w1
        H[0, 3] -= w1 * ui
        H[3, 3] += w1 * ui * ui
        H[1, 1] += w2
        H[1, 4] -= w2 * vi
        H[4, 4] += w2 * vi * vi
        H[2, 2] += w3
        c = (1.0 if inlier else 0.0) - psi
        for j in range(NPARAM):
            for k in range(j, NPARAM):
                H[j, k] += c * gr[j] * gr[k]
    for j in range(NPARAM):
        for k in range(j):
            H[j, k] = H[k, j]
    return total


@njit(cache=True, nogil=True)
def grid_objectives(
    a_vals: np.ndarray,
    b_vals: np.ndarray,
    e_vals: np.ndarray,
    alpha_vals: np.ndarray,
    beta_vals: np.ndarray,
    log_n: np.ndarray,
    log_d: np.ndarray,
    ell: np.ndarray,
    delta: float,
) -> np.ndarray:
    """F at every point of the Cartesian grid, shaped (alpha, beta, e, a, b).

    L̂ = e^a·N^-alpha + e^b·D^-beta + e^e factorises over the grid, so each (grid point, data
    point) pair costs two multiply-adds, one log and a Huber term: O(|grid|·n) with the
    exponentials hoisted out (O((|alpha| + |beta|)·n) of them).
    """
    na, nb, ne = a_vals.size, b_vals.size, e_vals.size
    out = np.zeros((alpha_vals.size, beta_vals.size, ne, na, nb))
    ea, eb, ee = np.exp(a_vals), np.exp(b_vals), np.exp(e_vals)
    for i in range(log_n.size):
        for ia in range(alpha_vals.size):
            xn = np.exp(-alpha_vals[ia] * log_n[i])
            for ib in range(beta_vals.size):
                xd = np.exp(-beta_vals[ib] * log_d[i])
                for ie in range(ne):
                    for ja in range(na):
                        base = ee[ie] + ea[ja] * xn
                        for jb in range(nb):
                            r = np.log(base + eb[jb] * xd) - ell[i]
                            out[ia, ib, ie, ja, jb] += _huber(r, delta)
    return out


@njit(cache=True, nogil=True)
def _solve_damped(H: np.ndarray, g: np.ndarray, lam: float, step: np.ndarray) -> bool:
    """Solve (H + lam·diag(scale)) step = -g by Cholesky; False if not positive definite."""
    n = g.size
    M = H.copy()
    dmax = 0.0
    for j in range(n):
        dmax = max(dmax, abs(H[j, j]))
    floor = 1e-12 * dmax if dmax > 0 else 1e-12
    for j in range(n):
        M[j, j] += lam * max(abs(H[j, j]), floor)
    L = np.zeros((n, n))
    for j in range(n):
        s = M[j, j]
        for k in range(j):
            s -= L[j, k] * L[j, k]
        if not s > 0.0:
            return False
        L[j, j] = np.sqrt(s)
        for i in range(j + 1, n):
            t = M[i, j]
            for k in range(j):
                t -= L[i, k] * L[j, k]
            L[i, j] = t / L[j, j]
    y = np.empty(n)
    for i in range(n):
        t = -g[i]
        for k in range(i):
            t -= L[i, k] * y[k]
        y[i] = t / L[i, i]
    for i in range(n - 1, -1, -1):
        t = y[i]
        for k in range(i + 1, n):
            t -= L[k, i] * step[k]
        step[i] = t / L[i, i]
    return True


@njit(cache=True, nogil=True)
def polish(
    starts: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    ell: np.ndarray,
    delta: float,
    max_iter: int,
    thetas: np.ndarray,
    values: np.ndarray,
    status: np.ndarray,
    iterations: np.ndarray,
) -> None:
    """Levenberg–Marquardt-damped Newton from each start (K, 5) to a stationary point.

    Steps solve (∇²F + λ·diag|∇²F|)·s = -∇F; a step is taken only if F decreases (λ shrinks),
    otherwise λ grows. Stops when F stops decreasing in floating point (λ beyond 1e16) or a
    nearly undamped step (λ < 1e-2) gains less than 1e-15 relative. status: 1 converged,
    0 iteration limit, -1 non-finite; iterations: Newton iterations used. Cost O(25·n) per
    iteration, at most ``max_iter`` iterations per start.
    """
    g = np.empty(NPARAM)
    H = np.empty((NPARAM, NPARAM))
    step = np.empty(NPARAM)
    trial = np.empty(NPARAM)
    for k in range(starts.shape[0]):
        theta = starts[k].copy()
        f = objective_gradient_hessian(theta, u, v, ell, delta, g, H)
        lam = 1e-3
        st = 0
        if not np.isfinite(f):
            st = -1
        it = 0
        while st == 0 and it < max_iter:
            it += 1
            if not _solve_damped(H, g, lam, step):
                lam = max(lam * 10.0, 1e-8)
                if lam > 1e16:
                    st = 1
                continue
            for j in range(NPARAM):
                trial[j] = theta[j] + step[j]
            ft = objective(trial, u, v, ell, delta)
            if np.isfinite(ft) and ft < f:
                # A (nearly) undamped Newton step that gains nothing: stationary to rounding.
                done = (f - ft) <= 1e-15 * f and lam < 1e-2
                theta[:] = trial
                f = objective_gradient_hessian(theta, u, v, ell, delta, g, H)
                lam = max(lam * 0.2, 1e-12)
                if done:
                    st = 1
            else:
                lam *= 4.0
                if lam > 1e16:
                    st = 1
        thetas[k] = theta
        values[k] = f
        status[k] = st
        iterations[k] = it
