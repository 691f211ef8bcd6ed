"""Every hop over TLS, mutual where asked: the real stack with a throwaway CA.

One stack for the module: the gateway serves HTTPS and requires a client certificate, the
services require one from the gateway (and the probes). What we check against is the CA
this test made: a client trusting it reaches everything; plaintext, certificate-less and
wrongly-certified clients are turned away at the handshake, at the gateway and at the
services alike.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from deploy.local.certs import make_ca, make_leaf, write_dev_certs
from services.common.healthcheck import check
from services.common.tls import TlsSettings
from tests.integration.stack import Stack, start_stack

FIT = {"x": [1, 2, 4, 8, 16], "y": [10.0, 5.1, 2.4, 1.26, 0.62]}
SAMPLE = {"model": "erdos_renyi", "n": 2000, "c": 2.0, "replicates": 2, "seed": 3}
SERVICES = {"simulation": "zuhur.v1.Simulation", "fitting": "zuhur.v1.Fitting"}


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_dev_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def secure(
    tmp_path_factory: pytest.TempPathFactory, numba_cache: Path, certs: dict[str, Path]
) -> Iterator[Stack]:
    tls = TlsSettings(
        cert_file=certs["cert"],
        key_file=certs["key"],
        ca_file=certs["ca"],
        client_auth=True,
        https_client_auth=True,
    )
    s = start_stack(tmp_path_factory.mktemp("tls"), numba_cache, tls=tls)
    yield s
    s.close()


@pytest.fixture(scope="module")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A certificate for the same names from another CA."""
    folder = tmp_path_factory.mktemp("stranger")
    return make_leaf(make_ca("Someone else's CA")).write(folder, "stranger")


def context(ca: Path, cert: tuple[Path, Path] | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca))
    if cert is not None:
        ctx.load_cert_chain(*cert)
    return ctx


def test_the_gateway_serves_https_and_reaches_both_services_over_mutual_tls(
    secure: Stack,
) -> None:
    assert secure.url.startswith("https://")
    with httpx.Client(base_url=secure.url, verify=secure.verify, timeout=60) as client:
        ready = client.get("/readyz").json()
        assert ready["status"] == "ready"
        fit = client.post("/v1/fits/power-law", json=FIT)  # gateway -> fitting
        assert fit.status_code == 200, fit.text
        sample = client.post("/v1/graphs/sample", json=SAMPLE)  # gateway -> simulation
        assert sample.status_code == 200, sample.text
        assert 0 < sample.json()["largest_fraction"]["mean"] < 1
    for name in SERVICES:
        assert "mutual TLS" in secure.log(name), secure.log(name)


def test_the_gateway_refuses_plaintext_and_clients_without_a_good_certificate(
    secure: Stack, certs: dict[str, Path], stranger: tuple[Path, Path]
) -> None:
    port = secure.ports["gateway"]
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    for client_cert in (None, stranger):
        with pytest.raises(httpx.HTTPError):
            verify = context(certs["ca"], client_cert)
            httpx.get(f"https://127.0.0.1:{port}/healthz", verify=verify, timeout=5)
    # and a client trusting only another CA does not accept the gateway's certificate
    other_ca = stranger[0].parent / "other-ca.pem"
    other_ca.write_bytes(make_ca("Another CA").cert)
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        verify = context(other_ca, (certs["cert"], certs["key"]))
        httpx.get(f"https://127.0.0.1:{port}/healthz", verify=verify, timeout=5)
    # the right certificate from the same client machinery gets through
    good = context(certs["ca"], (certs["cert"], certs["key"]))
    assert httpx.get(f"https://127.0.0.1:{port}/healthz", verify=good, timeout=5).is_success


def health(target: str, service: str, credentials: grpc.ChannelCredentials | None) -> object:
    """The health status ``service`` reports, or the gRPC status code of the failure."""
    channel = (
        grpc.insecure_channel(target)
        if credentials is None
        else grpc.secure_channel(target, credentials)
    )
    with channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            return stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status
        except grpc.RpcError as exc:
            return exc.code()


def test_the_services_refuse_plaintext_and_clients_without_a_good_certificate(
    secure: Stack, certs: dict[str, Path], stranger: tuple[Path, Path]
) -> None:
    ca = certs["ca"].read_bytes()
    ours = grpc.ssl_channel_credentials(ca, certs["key"].read_bytes(), certs["cert"].read_bytes())
    theirs = grpc.ssl_channel_credentials(ca, stranger[1].read_bytes(), stranger[0].read_bytes())
    for name, service in SERVICES.items():
        target = f"127.0.0.1:{secure.ports[name]}"
        assert health(target, service, ours) == health_pb2.HealthCheckResponse.SERVING
        assert check(target, service, tls=secure.tls)  # the container probe's way in
        # reflection and the internal RPCs sit behind the same handshake
        for refused in (None, grpc.ssl_channel_credentials(ca), theirs):
            assert health(target, service, refused) == grpc.StatusCode.UNAVAILABLE, name
