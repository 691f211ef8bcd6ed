"""Optional TLS and mutual TLS for every hop, from files named by ``ZUHUR_TLS_*``.

One set of settings serves every process (each mounts its own files at the same paths):

- ``ZUHUR_TLS_CERT_FILE`` / ``ZUHUR_TLS_KEY_FILE``: this process's certificate chain and
  key (PEM). Set: TLS is on; the gRPC services and the gateway's HTTP listener serve TLS
  with it, and it is the client certificate the gateway, the job worker and the health
  probes present to the services. Unset (``make up``): plaintext everywhere.
- ``ZUHUR_TLS_CA_FILE``: the CA bundle that verifies peers: clients check the services'
  (and Redis') certificates against it (unset: the system roots); servers requiring client
  certificates check them against it.
- ``ZUHUR_TLS_CLIENT_AUTH``: the gRPC services refuse a client without a certificate the CA
  signed (mutual TLS gateway -> services); ``ZUHUR_TLS_HTTPS_CLIENT_AUTH``: the gateway's
  HTTPS listener does too.

A file that is missing or unreadable stops the process at startup with an error naming the
variable. Redis stays plaintext: the redis-server used here is built without TLS (README).
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import grpc
from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "ZUHUR_TLS_"


class TlsSettings(BaseSettings):
    """Where this process's certificate, key and peer CA are, and who must show one."""

    model_config = SettingsConfigDict(env_prefix=PREFIX)

    cert_file: Path | None = None
    key_file: Path | None = None
    ca_file: Path | None = None
    client_auth: bool = False
    https_client_auth: bool = False

    @field_validator("cert_file", "key_file", "ca_file")
    @classmethod
    def _readable(cls, path: Path | None, info: Any) -> Path | None:
        if path is None:
            return None
        name = PREFIX + str(info.field_name).upper()
        try:
            with path.open("rb") as f:
                f.read(1)
        except OSError as exc:
            raise ValueError(f"{name}: cannot read {str(path)!r} ({exc.strerror or exc})") from exc
        return path

    @model_validator(mode="after")
    def _complete(self) -> TlsSettings:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError(f"{PREFIX}CERT_FILE and {PREFIX}KEY_FILE must be set together")
        for flag in ("client_auth", "https_client_auth"):
            if getattr(self, flag) and (self.ca_file is None or self.cert_file is None):
                raise ValueError(
                    f"{PREFIX}{flag.upper()} needs {PREFIX}CA_FILE (to verify client "
                    f"certificates) and {PREFIX}CERT_FILE/{PREFIX}KEY_FILE (to serve TLS)"
                )
        return self

    @property
    def enabled(self) -> bool:
        """TLS is on when this process has a certificate."""
        return self.cert_file is not None

    def _pem(self) -> tuple[bytes | None, bytes | None, bytes | None]:
        """(key, certificate chain, CA) as bytes, each None when unset."""
        read = lambda p: p.read_bytes() if p is not None else None  # noqa: E731
        return read(self.key_file), read(self.cert_file), read(self.ca_file)

    def server_credentials(self) -> grpc.ServerCredentials | None:
        """Credentials of a gRPC server port, None for plaintext."""
        if not self.enabled:
            return None
        key, chain, ca = self._pem()
        assert key is not None and chain is not None
        return grpc.ssl_server_credentials(
            [(key, chain)],
            root_certificates=ca if self.client_auth else None,
            require_client_auth=self.client_auth,
        )

    def channel_credentials(self) -> grpc.ChannelCredentials | None:
        """Credentials of a gRPC client channel (our certificate as the client's, for mutual
        TLS), None for plaintext."""
        if not self.enabled:
            return None
        key, chain, ca = self._pem()
        return grpc.ssl_channel_credentials(
            root_certificates=ca, private_key=key, certificate_chain=chain
        )

    def uvicorn_options(self) -> dict[str, Any]:
        """uvicorn's ssl_* arguments for the gateway's HTTPS listener ({} for plain HTTP)."""
        if not self.enabled:
            return {}
        options: dict[str, Any] = {
            "ssl_certfile": str(self.cert_file),
            "ssl_keyfile": str(self.key_file),
        }
        if self.ca_file is not None:
            options["ssl_ca_certs"] = str(self.ca_file)
        if self.https_client_auth:
            options["ssl_cert_reqs"] = ssl.CERT_REQUIRED
        return options

    def client_context(self) -> ssl.SSLContext:
        """An HTTPS client context: verifies against the CA, presents our certificate."""
        context = ssl.create_default_context(
            cafile=str(self.ca_file) if self.ca_file is not None else None
        )
        if self.cert_file is not None and self.key_file is not None:
            context.load_cert_chain(self.cert_file, self.key_file)
        return context


def secure_or_insecure_channel(target: str, tls: TlsSettings, **kwargs: Any) -> grpc.aio.Channel:
    """An asyncio gRPC channel to ``target``: TLS when ``tls`` is on, plaintext otherwise."""
    credentials = tls.channel_credentials()
    if credentials is None:
        return grpc.aio.insecure_channel(target, **kwargs)
    return grpc.aio.secure_channel(target, credentials, **kwargs)
