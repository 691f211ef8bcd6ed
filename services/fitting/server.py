"""Thin gRPC adapter of the fitting models: proto in, plain fit function, proto out."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import grpc

from services.common.errors import InvalidArgument
from services.common.protoargs import proto_kwargs
from services.common.rpc import ServicerBase, unary
from services.common.server import add_service
from services.fitting import ENGINE_VERSION
from services.fitting.config import FittingSettings
from services.fitting.emergence import fit_emergence, fit_emergence_batch
from services.fitting.mirage import analyze_mirage
from services.fitting.models.broken_power_law import fit_broken_power_law
from services.fitting.models.chinchilla import fit_chinchilla
from services.fitting.models.critical_point import SweepCurve, fit_critical_point, linear_size
from services.fitting.models.kaplan import fit_kaplan
from services.fitting.models.power_law import fit_power_law
from services.fitting.protomap import (
    counts,
    emergence_batch_proto,
    emergence_proto,
    fit_result_proto,
    mirage_proto,
)
from zuhur.v1 import common_pb2, fitting_pb2, fitting_pb2_grpc

FULL_NAME = "zuhur.v1.Fitting"
MODELS = ("power-law", "scaling-law/chinchilla", "scaling-law/kaplan", "broken-power-law",
          "critical-point", "emergence", "mirage")  # fmt: skip
SCALING_FORMS = {"chinchilla": fit_chinchilla, "kaplan": fit_kaplan}


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
    async def FitEmergenceBatch(
        self, request: fitting_pb2.FitEmergenceBatchRequest, context: grpc.aio.ServicerContext
    ) -> fitting_pb2.EmergenceBatchResult:
        series = []
        for s in request.series:
            kwargs = proto_kwargs(s)
            kwargs["items"] = counts(kwargs["items"])
            series.append(kwargs)
        outcomes = await self.run_blocking(
            fit_emergence_batch, series, limits=self.limits, **proto_kwargs(request)
        )
        return emergence_batch_proto(outcomes)

    @unary
    async def AnalyzeMirage(
        self, request: fitting_pb2.AnalyzeMirageRequest, context: grpc.aio.ServicerContext
    ) -> fitting_pb2.MirageResult:
        kwargs = proto_kwargs(request)
        kwargs["items"] = counts(kwargs["items"])
        for evidence in ("token_accuracy", "token_loss", "edit_distance", "partial_credit"):
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
    add_service(servicer, fitting_pb2.DESCRIPTOR.services_by_name["Fitting"], server)
