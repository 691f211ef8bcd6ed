"""Names that vulture (``make lint``) reports unused but a framework uses: vulture reads this
file as if it used them; nothing imports it. Dead code is deleted, not listed here.

Functions registered by a decorator (FastAPI routes and exception handlers, gRPC servicer
methods) are skipped by ``ignore_decorators`` in pyproject.toml instead.
"""

from deploy.load import locustfile
from gateway import main
from gateway.core import headertimeout, requestid
from gateway.core.config import Settings
from gateway.jobs.store import JobQueue
from services.common import tls
from services.fitting.config import FittingSettings
from services.fitting.results import ResidualSummary
from services.simulation import dask_worker
from services.simulation.config import SimulationSettings
from tests.integration import conftest, otlp, test_warm_starts
from tests.unit.gateway.api import test_docs
from tests.unit.gateway.core import test_requestid

# saq's RedisQueue.update calls the override
JobQueue._update
# pydantic-settings reads the class attribute
Settings.model_config
tls.TlsSettings.model_config
FittingSettings.model_config
SimulationSettings.model_config
# a dataclass field, set by keyword and read by the proto mapping through asdict/getattr
ResidualSummary.max_abs
# FastAPI reads a route endpoint's annotations (gateway/api/routing.py)
_.__annotations__  # type: ignore[name-defined]  # noqa: F821
# pytest reads a hook and module marks
conftest.pytest_collection_modifyitems
test_warm_starts.pytestmark
# Locust reads these from the user classes of the locustfile
locustfile._GatewayUser.abstract
locustfile._GatewayUser.wait_time
locustfile._GatewayUser.on_start
locustfile.SimulationGrpcUser.wait_time
locustfile.SimulationGrpcUser.weight
locustfile.SeededGatewayUser.weight
locustfile.SeededGatewayUser
locustfile.UnseededGatewayUser
locustfile.SimulationGrpcUser
# a Dask worker calls its preload module's setup hook (--preload)
dask_worker.dask_setup
# gRPC calls the interceptor hook
locustfile.LocustInterceptor.intercept_unary_unary
# html.parser.HTMLParser calls its handlers (tests/unit/gateway/api/test_docs.py)
test_docs.Assets.handle_starttag
test_docs.Assets.handle_data
# grpc.aio calls the request-id interceptors' hooks (gateway/core/requestid.py)
requestid.StreamRequestId.intercept_unary_stream
# grpc calls the test collector's OTLP TraceService method (tests/integration/otlp.py)
otlp.Collector.Export
test_requestid.Record.intercept_service  # a server interceptor in the test
# uvicorn's factory import string in gateway/__main__.py (several workers)
main.create_worker_app
# uvicorn's protocol import string in gateway/__main__.py (gateway/core/headertimeout.py)
headertimeout.HeaderTimeoutProtocol
# pydantic calls the TLS settings' validators (services/common/tls.py)
tls.TlsSettings._readable
tls.TlsSettings._complete
