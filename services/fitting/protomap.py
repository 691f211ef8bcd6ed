"""Fit results from the plain science dataclasses to proto messages (one mapping each)."""

from __future__ import annotations

import math
from dataclasses import asdict

from services.fitting import ENGINE_VERSION
from services.fitting.emergence import EmergenceResult, SeriesOutcome
from services.fitting.mirage import MirageResult
from services.fitting.results import FitResult, ParamEstimate, Prediction
from zuhur.v1 import fitting_pb2


def _param(p: ParamEstimate) -> fitting_pb2.ParamEstimate:
    return fitting_pb2.ParamEstimate(value=p.value, stderr=p.stderr, ci95=list(p.ci95))


def _prediction(p: Prediction) -> fitting_pb2.Prediction:
    return fitting_pb2.Prediction(x=p.x, value=p.value, ci95=list(p.ci95))


def fit_result_proto(result: FitResult) -> fitting_pb2.FitResult:
    """The proto of any fit's result (one mapping for every model)."""
    out = fitting_pb2.FitResult(
        model=result.model,
        aic=result.aic,
        bic=result.bic,
        n=result.n,
        converged=result.converged,
        interval_method=result.interval_method,
        message=result.message,
        engine_version=ENGINE_VERSION,
        predictions=[_prediction(p) for p in result.predictions],
        extra=result.extra,
        bootstrap=result.bootstrap,
        bootstrap_failed=result.bootstrap_failed,
    )
    for name, p in result.params.items():
        out.params[name].CopyFrom(_param(p))
    for name, p in result.derived.items():
        out.derived[name].CopyFrom(_param(p))
    if math.isfinite(result.r2):
        out.r2 = result.r2
    if math.isfinite(result.objective):
        out.objective = result.objective
    if result.residuals is not None:
        out.residuals.CopyFrom(fitting_pb2.ResidualSummary(**asdict(result.residuals)))
    if result.holdout is not None:
        h = result.holdout
        out.holdout.CopyFrom(
            fitting_pb2.HoldoutReport(
                k=h.k,
                predictions=[_prediction(p) for p in h.predictions],
                observed=h.observed,
                rmse=h.rmse,
                mean_abs_rel_error=h.mean_abs_rel_error,
                max_abs_rel_error=h.max_abs_rel_error,
                covered=h.covered,
            )
        )
    if result.seed is not None:
        out.seed = result.seed
    return out


def counts(values: list[int]) -> int | list[int] | None:
    """Item counts as the science takes them: none, one for every point, or one per point."""
    return None if not values else values[0] if len(values) == 1 else values


def emergence_proto(result: EmergenceResult) -> fitting_pb2.EmergenceResult:
    """The proto of one emergence verdict."""
    out = fitting_pb2.EmergenceResult(
        verdict=result.verdict,
        reason=result.reason,
        sigmoid=result.sigmoid,
        best_smooth=result.best_smooth,
        preferred=result.preferred,
        delta_aic=result.delta_aic,
        delta_bic=result.delta_bic,
        threshold=_param(result.threshold),
        width_decades=_param(result.width_decades),
        plateau_points=result.plateau_points,
        predictions=[_prediction(p) for p in result.predictions],
        likelihood=result.likelihood,
        dispersion=result.dispersion,
        interval_method=result.interval_method,
        bootstrap=result.bootstrap,
        bootstrap_failed=result.bootstrap_failed,
        seed=result.seed,
        engine_version=ENGINE_VERSION,
        threshold_side=result.threshold_side,
        scale_kind=result.scale_kind,
        sizes=result.sizes,
        overall_improvement=result.overall_improvement,
        breakthroughness=result.breakthroughness,
        linearity=result.linearity,
        statistics=result.statistics,
    )
    for name, fit in result.models.items():
        out.models[name].CopyFrom(fit_result_proto(fit))
    return out


def emergence_batch_proto(outcomes: list[SeriesOutcome]) -> fitting_pb2.EmergenceBatchResult:
    """One entry per series: its verdict, or its field violations in place."""
    out = fitting_pb2.EmergenceBatchResult(engine_version=ENGINE_VERSION)
    for o in outcomes:
        entry = out.results.add(name=o.name)
        if o.result is not None:
            entry.result.CopyFrom(emergence_proto(o.result))
        for v in o.errors:
            entry.errors.add(field=v.field, message=v.description)
    return out


def mirage_proto(result: MirageResult) -> fitting_pb2.MirageResult:
    return fitting_pb2.MirageResult(
        explained=result.explained,
        reason=result.reason,
        k=result.k,
        law=fit_result_proto(result.law),
        points=[
            fitting_pb2.MiragePoint(**{**asdict(p), "predicted_ci95": list(p.predicted_ci95)})
            for p in result.points
        ],
        statistic=result.statistic,
        dof=result.dof,
        p_value=result.p_value,
        k_effective=result.k_effective,
        resamples=result.resamples,
        seed=result.seed,
        level=result.level,
        engine_version=ENGINE_VERSION,
        k_effective_ci95=list(result.k_effective_ci95),
        evidence=result.evidence,
        evidence_conversion=result.evidence_conversion,
        k_statistic=result.k_statistic,
        k_p_value=result.k_p_value,
    )
