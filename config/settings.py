"""Lotse's settings: `LOTSE_*` environment variables, read at the edges (command line, flows)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from lotse.config import hosts

PACKAGED_PROCESS_DIR = Path(__file__).parent / "processes"
PACKAGED_REGIONS_FILE = Path(__file__).parent / "regions.yaml"
_NOT_IN_LINK = re.compile(r"[\s<>()\[\]\"'`]")


class Settings(BaseSettings):
    """Every setting, with its default. Create one per entry point: `Settings()`."""

    model_config = SettingsConfigDict(env_prefix="LOTSE_", extra="ignore")

    home: Path = Field(Path(".lotse"), description="Folder for the default database and state.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: a SQLite file under LOTSE_HOME."
    )
    process_dir: Path | None = Field(
        None, description="Extra folder of process definitions (*.yaml) of the alliance."
    )
    busy_timeout_seconds: float = Field(
        30, gt=0, le=3600,
        description="How long a change waits for another's on SQLite before it gives up (nothing written).",
    )
    programmes_file: Path | None = Field(
        None, description="YAML file of the alliance's funding programmes (docs/costs.md); "
                          "default: the examples shipped in config/programmes.yaml.",
    )
    default_process: str = "pflege"
    default_region: str = "SE"
    regions_file: Path | None = Field(
        None, description="The alliance's region hierarchy (YAML: code, title, regions); default: "
                          "the shipped config/regions.yaml (the demo county SE).",
    )
    timezone: str = "Europe/Berlin"
    locale: Literal["de", "en"] = "de"
    public_url: str | None = Field(
        None, description="Address of the Lotse desk; case overviews link to <url>/cases/<ref>."
    )

    # the desk and its links
    secret_key: SecretStr | None = Field(
        None, description="Key that signs answer and sign-in links; default: the key `lotse init` "
                          "writes to LOTSE_HOME/secret.key (mode 0600). At least 32 characters.",
    )
    desk_host: str = Field("127.0.0.1", description="Address the desk listens on.")
    desk_port: int = Field(4210, ge=1, le=65535, description="Port of the desk.")
    link_days: int = Field(30, ge=1, le=366, description="How long an answer link stays valid.")
    childcare_lead_months: int = Field(
        3, ge=0, le=24,
        description="Months before a child arrives that its Kita place is due (the waiting time).",
    )
    no_poaching_months: int = Field(
        24, ge=0, le=120,
        description="The alliance's no-poaching period (Abwerbeverzicht), in months from a case's "
                    "arrival_date: inside it only the coordinator moves a case to another employer, "
                    "with a note (docs/attrition.md). 0: no period.",
    )
    desk_idle_minutes: int = Field(30, ge=1, le=24 * 60, description="A desk session ends after this.")
    sign_in_minutes: int = Field(15, ge=1, le=24 * 60, description="How long a sign-in link is valid.")

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if len(value.get_secret_value()) < 32:
            raise ValueError("is too short: give at least 32 random characters "
                             "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)")
        return value

    @property
    def secret_key_file(self) -> Path:
        return self.home / "secret.key"

    @property
    def cache_dir(self) -> Path:
        """Definitions and the region hierarchy as last checked (states/definition_cache.py)."""
        return self.home / "cache"

    def signing_key(self) -> bytes | None:
        """The key links are signed with: LOTSE_SECRET_KEY, else LOTSE_HOME/secret.key; None if
        neither is there (`lotse init` writes the file)."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        try:
            key = self.secret_key_file.read_text().strip()
        except OSError:
            return None
        return key.encode() if len(key) >= 32 else None

    @property
    def desk_url(self) -> str:
        """Where links point: LOTSE_PUBLIC_URL, else the desk on this machine."""
        return self.public_url or f"http://{self.desk_host}:{self.desk_port}"

    @field_validator("prefect_host")
    @classmethod
    def _host(cls, value: str) -> str:
        return hosts.check(value)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not a time zone like Europe/Berlin") from None
        return value

    @field_validator("public_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        # It ends up in a markdown link: no spaces, brackets or quotes that could end the link.
        address = value.strip()
        parts = urlsplit(address)
        if parts.scheme not in ("http", "https") or not parts.netloc or _NOT_IN_LINK.search(address):
            raise ValueError(f"'{value}' is not a web address like https://lotse.allianz.example")
        return address.rstrip("/")

    # notifications
    notify_config: Path | None = Field(
        None, description="Apprise configuration file (YAML or text) routing tags to channels."
    )
    chat_reference_only: bool = Field(
        False, description="Chat messages name the case reference only, never the given name."
    )
    notify_max_attempts: int = 6
    notify_backoff_seconds: int = 60
    notify_timeout_seconds: float = Field(5.0, description="Connect and read timeout per message.")
    notify_claim_seconds: int = Field(
        300, description="How long a delivery holds the rows it took; a killed one's rows return then."
    )
    notify_batch_size: int = Field(20, description="Rows a delivery takes at once.")
    notify_on_advance: bool = Field(
        True, description="`lotse case advance` delivers its messages right after the change."
    )
    template_dir: Path | None = Field(None, description="Folder of templates overriding ours.")

    # orchestration
    prefect_host: str = Field(
        hosts.LOOPBACK,
        description="Address the Prefect server of `lotse up` binds to; beyond loopback only with "
                    "PREFECT_SERVER_API_AUTH_STRING set.",
    )
    prefect_port: int = Field(4200, ge=1, le=65535)
    poll_seconds: float = Field(
        0.5, gt=0, le=60,
        description="How often `lotse up` asks the Prefect server for runs to start: a click in the UI "
                    "waits up to this long before its run starts (Prefect's default is 10 s).",
    )
    schedule_deliver: str | None = Field("*/5 * * * *", description="Cron; empty switches off.")
    schedule_check: str | None = "30 6 * * *"
    schedule_report: str | None = "0 7 * * *"
    schedule_retention: str | None = Field(
        "0 5 1 * *", description="Cron of apply-retention (erases closed cases past their process's "
                                 "retention; monthly by default); empty switches off.")
    work_case_timeout_seconds: int = Field(
        3600, gt=0, description="How long a `work-case` run waits for its form, then ends changing nothing."
    )

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'lotse.db').resolve()}"

    @property
    def regions_path(self) -> Path:
        return self.regions_file.expanduser() if self.regions_file is not None else PACKAGED_REGIONS_FILE

    @property
    def process_dirs(self) -> list[Path]:
        dirs = [PACKAGED_PROCESS_DIR]
        if self.process_dir is not None:
            dirs.append(self.process_dir)
        return dirs
