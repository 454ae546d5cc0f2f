"""Settings: the only place that reads the environment (prefix SGMIRROR_)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting of the mirror; each field maps to an `SGMIRROR_<NAME>` variable."""

    model_config = SettingsConfigDict(env_prefix="SGMIRROR_", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Folder for the SQLite file, TLS certificate, etc.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default sqlite:///<data_dir>/sgmirror.db (PostgreSQL: postgresql://...)"
    )
    host: str = Field("127.0.0.1", description="Address the HTTP API and SMTP relay bind to")
    http_port: int = Field(8090, description="HTTP API and web console port")
    smtp_port: int = Field(2525, description="SMTP relay port (plain + STARTTLS)")
    smtps_port: int = Field(2465, description="SMTP relay port (implicit TLS)")
    smtp_enabled: bool = Field(True, description="Run the SMTP relay inside `sgmirror serve` (same process and loop)")
    smtp_allow_plaintext_auth: bool = Field(
        False, description="Offer SMTP AUTH before STARTTLS to loopback clients (otherwise only over TLS)"
    )
    https_port: int = Field(8091, description="HTTPS port of the same API (`sgmirror cert` says how to trust it)")
    https_enabled: bool = Field(True, description="Serve the API over TLS on https_port as well as plain on http_port")
    tls_cert: Path | None = Field(
        None, description="PEM certificate (chain) for HTTPS and the SMTP relay; default: self-signed, in the data dir"
    )
    tls_key: Path | None = Field(None, description="PEM private key of tls_cert, when it is not in the same file")
    api_key: str | None = Field(
        None, description="Bootstrap full-access API key of the 'default' account, taken verbatim (SG.<id>.<secret>)"
    )
    partner_api_key: str | None = Field(
        None, description="Bootstrap API key of the partner account, for /v3/partners/*"
    )
    require_verified_sender: bool = Field(
        True, description="Refuse mail whose from address is not a verified sender or authenticated domain"
    )
    admin_token: str | None = Field(
        None, description="Bearer token for /_mirror/ admin and inspection APIs; open on loopback when unset"
    )
    public_url: str | None = Field(
        None, description="Base URL used in links the mirror generates; default http://<host>:<http_port>"
    )
    log_level: str = Field("info", description="Log level: debug, info, warning, error")
    ip_pool: str = Field(
        "198.51.100.0/24", description="IPv4 network (CIDR) that dedicated IPs are allocated from (TEST-NET-2 default)"
    )
    default_plan: str | None = Field(
        None, description="Offering (e.g. org.ei.free.v1) given to the 'default' account on start; unset: no daily cap"
    )
    domain_validation: Literal["auto", "manual", "dns"] = Field(
        "auto", description="Domain validation: auto (valid at once), manual (after /_mirror/ marks records), dns"
    )
    dns_resolver: str | None = Field(
        None, description="host[:port] of the DNS server for domain_validation=dns; default: /etc/resolv.conf"
    )
    rate_limit: int = Field(600, description="API requests per key per endpoint family and window; 0 turns it off")
    rate_limit_window: int = Field(60, description="Rate-limit window in seconds")
    rate_limits: dict[str, int] = Field(
        {}, description='Per-family limits as JSON, e.g. {"messages": 100, "api_keys": 50}'
    )
    scheduler_interval: float = Field(1.0, description="Seconds between scheduler passes delivering due sends")
    faults: str | None = Field(
        None,
        description="Fault-injection rules (README 'Fault injection'): a JSON list inline, or a JSON/YAML file path; "
        "off when unset",
    )
    webhook_interval: float = Field(
        1.0, description="Seconds between Event Webhook passes (batch new events, POST due deliveries)"
    )
    delivery_rules: str | None = Field(
        None, description="Delivery simulator rules: inline JSON or the path of a JSON/YAML file (README)"
    )
    trusted_hosts: str = Field(
        "",
        description="More Host names (comma-separated) that /_mirror and the console answer to; loopback names, "
        "`host` and public_url's host always are; * trusts any (e.g. a container's service name)",
    )
    forwarded_allow_ips: str = Field(
        "", description="Proxy addresses (comma-separated) whose X-Forwarded-For/-Proto are believed; none by default"
    )
    max_connections: int = Field(
        0,
        ge=0,
        description="Open connections per listening port (HTTP, HTTPS, each SMTP port); past it the longest idle "
        "one is closed. 0: a share of the open-file limit",
    )
    http_request_timeout: float = Field(
        60.0,
        gt=0,
        description="Seconds a client has to send one whole request (headers and body), from the moment the "
        "connection waits for it (opened, or the previous answer sent), before it is cut off",
    )
    smtp_idle_timeout: float = Field(
        60.0,
        gt=0,
        description="Seconds an SMTP session may stay silent (between commands, or within a message) before the "
        "relay answers 421 and closes it",
    )
    retention_max_messages: int = Field(
        0, description="Keep at most this many messages; older ones are pruned in the background. 0: no cap"
    )
    retention_max_age_days: float = Field(
        0, description="Prune messages older than this many days (mirror clock), in the background. 0: keep all"
    )

    @field_validator("ip_pool")
    @classmethod
    def _valid_ip_pool(cls, value: str) -> str:
        ipaddress.IPv4Network(value, strict=False)
        return value

    def resolved_database_url(self) -> str:
        """The configured URL, or the SQLite file in the data dir."""
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{self.data_dir / 'sgmirror.db'}"

    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.http_port}"


def normalise_database_url(url: str) -> str:
    """Pick the psycopg 3 driver for plain postgres URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()


def describe_settings() -> str:
    """One line per setting, for `sgmirror --help`."""
    lines = []
    for name, field in Settings.model_fields.items():
        default = field.default if field.default is not None else "(unset)"
        lines.append(f"  SGMIRROR_{name.upper():<26} {field.description} [default: {default}]")
    return "\n".join(lines)
