"""TLS settings: a wrong or missing file stops the start naming the variable; the helpers
hand each transport what it needs (checked against a CA made here)."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest
from pydantic import ValidationError

from deploy.local.certs import make_ca, make_leaf, write_dev_certs
from gateway.__main__ import main as gateway_main
from services.common.config import ServiceSettings
from services.common.server import serve
from services.common.tls import TlsSettings


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_dev_certs(tmp_path_factory.mktemp("certs"))


def test_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CERT_FILE", "KEY_FILE", "CA_FILE", "CLIENT_AUTH", "HTTPS_CLIENT_AUTH"):
        monkeypatch.delenv(f"ZUHUR_TLS_{name}", raising=False)
    tls = TlsSettings()
    assert not tls.enabled
    assert tls.server_credentials() is None and tls.channel_credentials() is None
    assert tls.uvicorn_options() == {}


@pytest.mark.parametrize("field", ["cert_file", "key_file", "ca_file"])
def test_a_missing_file_is_named_by_its_variable(
    certs: dict[str, Path], tmp_path: Path, field: str
) -> None:
    files = {"cert_file": certs["cert"], "key_file": certs["key"], "ca_file": certs["ca"]}
    files[field] = tmp_path / "absent.pem"
    with pytest.raises(ValidationError, match=f"ZUHUR_TLS_{field.upper()}: cannot read"):
        TlsSettings(**files)
    files[field] = tmp_path  # a folder is not a readable file either
    with pytest.raises(ValidationError, match=f"ZUHUR_TLS_{field.upper()}"):
        TlsSettings(**files)


def test_incomplete_settings_say_what_is_missing(certs: dict[str, Path]) -> None:
    with pytest.raises(ValidationError, match="CERT_FILE and ZUHUR_TLS_KEY_FILE"):
        TlsSettings(cert_file=certs["cert"])
    with pytest.raises(ValidationError, match="ZUHUR_TLS_CLIENT_AUTH needs ZUHUR_TLS_CA_FILE"):
        TlsSettings(cert_file=certs["cert"], key_file=certs["key"], client_auth=True)


def test_the_https_listener_asks_for_client_certificates_only_when_told(
    certs: dict[str, Path],
) -> None:
    files = {"cert_file": certs["cert"], "key_file": certs["key"], "ca_file": certs["ca"]}
    assert "ssl_cert_reqs" not in TlsSettings(**files).uvicorn_options()
    strict = TlsSettings(**files, https_client_auth=True).uvicorn_options()
    assert strict["ssl_cert_reqs"] == ssl.CERT_REQUIRED
    assert strict["ssl_ca_certs"] == str(certs["ca"])


def test_the_client_context_trusts_our_ca_and_no_other(
    certs: dict[str, Path], tmp_path: Path
) -> None:
    """A TLS handshake in memory: our context accepts a server certificate the CA signed
    and refuses one from another CA."""
    tls = TlsSettings(cert_file=certs["cert"], key_file=certs["key"], ca_file=certs["ca"])
    ours = (certs["cert"], certs["key"])
    theirs = make_leaf(make_ca("Another CA")).write(tmp_path, "theirs")
    assert handshake(tls.client_context(), ours) is None
    assert "CERTIFICATE_VERIFY_FAILED" in str(handshake(tls.client_context(), theirs))


def handshake(client: ssl.SSLContext, server_cert: tuple[Path, Path]) -> Exception | None:
    """Run a TLS handshake between ``client`` and a server with ``server_cert`` over memory
    BIOs; the client's error, or None when it succeeds."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(*server_cert)
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    c = client.wrap_bio(c_in, c_out, server_hostname="127.0.0.1")
    s = server.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(10):
        for side, out, peer_in in ((c, c_out, s_in), (s, s_out, c_in)):
            try:
                side.do_handshake()
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError as exc:
                if side is c:
                    return exc
            peer_in.write(out.read())
        try:
            c.do_handshake()
            return None
        except ssl.SSLWantReadError:
            continue
        except ssl.SSLError as exc:
            return exc
    return RuntimeError("handshake did not finish")


def test_the_gateway_and_the_services_stop_at_start_on_a_missing_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, certs: dict[str, Path]
) -> None:
    """Both entrypoints read the TLS settings first: nothing binds, nothing warms up."""
    monkeypatch.setenv("ZUHUR_TLS_CERT_FILE", str(certs["cert"]))
    monkeypatch.setenv("ZUHUR_TLS_KEY_FILE", str(tmp_path / "gone-key.pem"))
    with pytest.raises(ValidationError, match="ZUHUR_TLS_KEY_FILE: cannot read"):
        gateway_main()
    never = object()  # serve must fail before it touches the servicer
    with pytest.raises(ValidationError, match="ZUHUR_TLS_KEY_FILE: cannot read"):
        asyncio.run(serve(ServiceSettings(), never, never, "zuhur.v1.Nothing", never))  # type: ignore[arg-type]
