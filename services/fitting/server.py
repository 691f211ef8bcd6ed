"""Thin gRPC adapter of the fitting models: proto in, plain fit function, proto out."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

import grpc

from services.common.errors import InvalidArgument
from services.common.rpc import ServicerBase, proto_kwargs, unary
from services.fitting import ENGINE_VERSION
from services.fitting.config import FittingSettings
from services.fitting.emergence import EmergenceResult, fit_emergence
from services.fitting.mirage import MirageResult, analyze_mirage
from services.fitting.models.broken_power_law import fit_broken_power_law
from services.fitting.models.chinchilla import fit_chinchilla
from services.fitting.models.critical_point import SweepCurve, fit_critical_point, linear_size
from services.fitting.models.kaplan import fit_kaplan
from services.fitting.models.power_law import fit_power_law
from services.fitting.results import FitResult, ParamEstimate, Prediction
from zuhur.v1 import common_pb2, fitting_pb2, fitting_pb2_grpc

FULL_NAME = "zuhur.v1.Fitting"
MODELS = ("power-law", "scaling-law/chinchilla", "scaling-law/kaplan", "broken-power-law",
          "critical-point", "emergence", "mirage")  # fmt: skip
SCALING_FORMS = {"chinchilla": fit_chinchilla, "kaplan": fit_kaplan}


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
    )
    for name, fit in result.models.items():
        out.models[name].CopyFrom(fit_result_proto(fit))
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
    )


class FittingServicer(ServicerBase, fitting_pb2_grpc.FittingServicer):
    """Each fit runs on a worker thread, bounded by max_in_flight and the time budget."""

    service_name = FULL_NAME

    def __init__(self, settings: FittingSettings) -> None:
        super().__init__(workers=settings.workers, max_in_flight=settings.max_in_flight)
        self.limits = settings.limits

    @unary
    async def FitPowerLaw(
        self, request: fitting_pb2.FitPowerLawRequest, context: grpc.aio.ServicerContext
    ) -> fitting_pb2.FitResult:
        kwargs = proto_kwargs(request)
        kwargs["sigma"] = kwargs["sigma"] or None
        return await self._fit(fit_power_law, kwargs.pop("x"), kwargs.pop("y"), **kwargs)

    @unary
    async def FitScalingLaw(
        self, request: fitting_pb2.FitScalingLawRequest, context: grpc.aio.ServicerContext
    ) -> fitting_pb2.FitResult:
        kwargs = proto_kwargs(request, skip=("form",))
        fit = SCALING_FORMS.get(request.form)
        if fit is None:
            forms = ", ".join(SCALING_FORMS)
            raise InvalidArgument.field("form", f"must be one of {forms}, got {request.form!r}")
        loss = kwargs.pop("loss")
        if fit is fit_kaplan:
            for name in ("delta", "polish_starts", "predict_C"):
                if kwargs.pop(name, None):
                    raise InvalidArgument.field(name, "applies to the chinchilla form only")
            kwargs["N"] = kwargs["N"] or None
            kwargs["D"] = kwargs["D"] or None
            return await self._fit(fit_kaplan, loss, **kwargs)
        out = await self._fit(fit_chinchilla, kwargs.pop("N"), kwargs.pop("D"), loss, **kwargs)
        for name, estimate in out.derived.items():
            out.compute_optimal[name].CopyFrom(estimate)
        return out

    @unary
    async def FitBrokenPowerLaw(
        self, request: fitting_pb2.FitBrokenPowerLawRequest, context: grpc.aio.ServicerContext
    ) -> fitting_pb2.FitResult:
        kwargs = proto_kwargs(request)
        return await self._fit(fit_broken_power_law, kwargs.pop("x"), kwargs.pop("y"), **kwargs)

    @unary
    async def FitCriticalPoint(
        self, request: fitting_pb2.FitCriticalPointRequest, context: grpc.aio.ServicerContext
    ) -> fitting_pb2.FitResult:
        curves = [
            SweepCurve(c.size, list(c.control), list(c.largest_fraction), list(c.susceptibility))
            for c in request.curves
        ] + [
            SweepCurve(
                linear_size(s.model, s.n),
                [p.control for p in s.points],
                [p.largest_fraction.mean for p in s.points],
                [p.susceptibility.mean for p in s.points],
            )
            for s in request.sweeps
        ]
        return await self._fit(fit_critical_point, curves, **proto_kwargs(request))

    @unary
    async def FitEmergence(
        self, request: fitting_pb2.FitEmergenceRequest, context: grpc.aio.ServicerContext
    ) -> fitting_pb2.EmergenceResult:
        kwargs = proto_kwargs(request)
        kwargs["items"] = counts(kwargs["items"])
        result = await self.run_blocking(
            fit_emergence, kwargs.pop("scale"), kwargs.pop("score"), limits=self.limits, **kwargs
        )
        return emergence_proto(result)

    @unary
    async def AnalyzeMirage(
        self, request: fitting_pb2.AnalyzeMirageRequest, context: grpc.aio.ServicerContext
    ) -> fitting_pb2.MirageResult:
        kwargs = proto_kwargs(request)
        kwargs["items"] = counts(kwargs["items"])
        for evidence in ("token_accuracy", "token_loss", "edit_distance"):
            kwargs[evidence] = kwargs[evidence] or None
        result = await self.run_blocking(
            analyze_mirage,
            kwargs.pop("scale"),
            kwargs.pop("exact_match"),
            limits=self.limits,
            **kwargs,
        )
        return mirage_proto(result)

    async def _fit(self, fit: Any, *args: Any, **kwargs: Any) -> fitting_pb2.FitResult:
        """Run one fit on a worker thread under the configured limits."""
        result = await self.run_blocking(fit, *args, limits=self.limits, **kwargs)
        return fit_result_proto(result)

    @unary
    async def Info(
        self, request: common_pb2.InfoRequest, context: grpc.aio.ServicerContext
    ) -> common_pb2.InfoResponse:
        return common_pb2.InfoResponse(
            service=FULL_NAME,
            engine_version=ENGINE_VERSION,
            limits={k: float(v) for k, v in asdict(self.limits).items()},
            models=list(MODELS),
        )


def register(servicer: ServicerBase, server: grpc.aio.Server) -> None:
    fitting_pb2_grpc.add_FittingServicer_to_server(servicer, server)


def warm_up() -> None:
    """Import-time costs (scipy) paid before SERVING: one tiny fit."""
    fit_power_law([1.0, 2.0, 4.0, 8.0], [8.0, 4.1, 1.9, 1.02])
