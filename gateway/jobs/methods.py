"""Which computing methods a job may run: the synchronous routes' own method records.

Job method names are the gRPC method names in snake_case, fits without their ``fit_``
prefix (``sweep``, ``sample_graph`` or ``sample``, ``simulate_abilities``, ``power_law``,
``scaling_law`` ..., ``analyze_mirage``); dashes are read as underscores (``power-law``).

``check`` asks the method's service to validate a job's request without running it, so a
request the service would refuse (its rules, its configured limits) is refused at
submission with the synchronous route's 422, and nothing is queued. The gateway holds no
copy of those rules.
"""

from __future__ import annotations

import logging
import re

import grpc
from google.protobuf.message import Message

from gateway.api.cached_call import Context
from gateway.api.routes import abilities, fits, graphs  # noqa: F401  (they register methods)
from gateway.api.routing import COMPUTE_METHODS, ComputeMethod
from gateway.core.clients import SIMULATION
from gateway.core.errors import UpstreamError
from services.common.control import VALIDATE_ONLY
from zuhur.v1 import simulation_pb2

log = logging.getLogger(__name__)

# The sweep route streams, so it is not built by add_compute_route: same record by hand.
SWEEP = ComputeMethod(simulation_pb2.SweepRequest, SIMULATION, "Sweep", stream_field="curve")
ALIASES = {"sample": "sample_graph"}


def job_name(rpc: str) -> str:
    """``FitPowerLaw`` -> ``power_law``; ``SimulateAbilities`` -> ``simulate_abilities``."""
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", rpc).lower()
    return snake.removeprefix("fit_")


def methods() -> dict[str, ComputeMethod]:
    """Every method a job may name, by job method name."""
    table = {job_name(m.method): m for m in (*COMPUTE_METHODS.values(), SWEEP)}
    table.update({alias: table[name] for alias, name in ALIASES.items() if name in table})
    return table


def lookup(name: str) -> ComputeMethod | None:
    """The method a job names, or None when there is none."""
    return methods().get(name.strip().lower().replace("-", "_"))


# The service's definite "no": the synchronous route answers these with 422.
REFUSALS = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.FAILED_PRECONDITION,
    }
)


async def check(ctx: Context, method: ComputeMethod, message: Message) -> None:
    """Have the service validate ``message`` (``zuhur-validate-only``: it runs nothing).

    A refusal raises ``UpstreamError`` (mapped to the synchronous route's 422). Any other
    failure (service down, busy, slow) lets the job be queued: the worker retries with
    back-off and reports a refusal then, so an accepted job is never lost to an outage.
    """
    call = ctx.call(method.service, method.method)
    reply = call.invoke(
        message,
        timeout=ctx.settings.job_check_deadline_seconds,
        metadata=((VALIDATE_ONLY, "1"),),
    )
    try:
        if method.stream_field is None:
            await reply
        else:
            async for _ in reply:  # a valid request's stream ends with no event
                pass
    except grpc.aio.AioRpcError as exc:
        if exc.code() in REFUSALS:
            raise UpstreamError(method.service, exc) from exc
        log.warning("could not check a %s job before queueing it: %s", method.method, exc.code())
