"""One settings object, read from the environment, so every process configures itself the same way."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIN_SECRET_BYTES = 32
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
PASSWORD_RESET_FLOOR_SECONDS = 0.5  # an unknown address does less work than a known one
REGISTER_FLOOR_SECONDS = 0.6  # a new and a taken address both hash the password


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    return int(value) if value is not None else default


def _env_float(name: str, default: float) -> float:
    value = _env(name)
    return float(value) if value is not None else default


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_optional_bool(name: str) -> bool | None:
    """None when unset, so a default can depend on other settings (SMTP TLS on the host, API docs on HMS_ENV)."""
    return None if _env(name) is None else _env_bool(name, False)


def is_loopback(host: str | None) -> bool:
    return bool(host) and (host.lower() in LOOPBACK_HOSTS or host.startswith("127."))  # type: ignore[union-attr]


def normalise_database_url(url: str) -> str:
    """Accept the URLs hosting platforms hand out and point them at psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


@dataclass
class Settings:
    """Everything the application reads from its environment, typed and defaulted for a laptop."""

    env: str = "development"
    instance_path: Path = PROJECT_ROOT / "instance"
    database_url: str = ""
    redis_url: str | None = None
    timezone: str = "Asia/Kolkata"
    booking_horizon_days: int = 7
    phone_region: str = "IN"
    reminder_hour: int = 8
    export_ttl_days: int = 7
    jwt_secret: str = ""
    access_token_minutes: int = 10
    session_idle_minutes: float = 30.0
    patient_session_idle_minutes: float = 60.0
    session_hours: float = 12.0
    refresh_grace_seconds: int = 10
    admin_password: str | None = None
    # Administrators must enrol two-factor sign-in before anything else; None: on in production only.
    admin_totp_required: bool | None = None
    # Doctors too (off unless set).
    doctor_totp_required: bool = False
    demo_data: bool = False
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_tls: bool | None = None
    smtp_allow_plain: bool = False
    mail_from: str = "hospital@localhost"
    webhook_url: str | None = None
    sms_enabled: bool = False
    sms_url: str | None = None
    cors_origins: list[str] = field(default_factory=list)
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    login_ip_failures_per_minute: int = 30
    trusted_proxies: int = 0
    rate_limit_register: str = "10 per hour"
    rate_limit_refresh: str = "120 per minute"
    rate_limit_change_password: str = "10 per hour"
    rate_limit_exports: str = "30 per hour"
    rate_limit_password_reset: str = "10 per hour"
    password_reset_per_hour: int = 3
    # Minimum time of the answers that must not tell whether an address has an account (password reset,
    # registration). Production refuses anything shorter; only tests shorten them, to not wait for nothing.
    password_reset_floor_seconds: float = PASSWORD_RESET_FLOOR_SECONDS
    register_floor_seconds: float = REGISTER_FLOOR_SECONDS
    max_active_bookings: int = 5
    calendar_feed_details: bool = False
    api_docs: bool | None = None
    audit_key: str = ""
    cache_seconds: int = 300
    redis_retry_seconds: float = 5.0
    outbox_grace_seconds: int = 60
    export_lease_seconds: int = 720
    # Billing: tax as a percentage of an invoice's lines, the month a financial year starts, ISO 4217 currency.
    invoice_tax_percent: Decimal = Decimal("0")
    financial_year_start_month: int = 4
    currency: str = "INR"
    # argon2id cost (argon2-cffi's RFC 9106 low-memory profile); only tests lower it (HMS_ARGON2_* for the servers
    # they start), to sign in quickly; production refuses less.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    public_url: str = "http://127.0.0.1:5000"
    frontend_dist: Path = PROJECT_ROOT / "frontend" / "dist"
    testing: bool = False
    extra: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Read HMS_* and the usual service URLs; overrides win (tests use them)."""
        instance_path = Path(_env("HMS_INSTANCE_PATH", str(PROJECT_ROOT / "instance")))  # type: ignore[arg-type]
        port = _env("HMS_PORT", "5000")
        settings = cls(
            env=_env("HMS_ENV", "development") or "development",
            instance_path=instance_path,
            database_url=_env("DATABASE_URL", "") or "",
            redis_url=_env("REDIS_URL"),
            timezone=_env("HMS_TIMEZONE", "Asia/Kolkata") or "Asia/Kolkata",
            booking_horizon_days=_env_int("HMS_BOOKING_HORIZON_DAYS", 7),
            phone_region=(_env("HMS_PHONE_REGION", "IN") or "IN").upper(),
            reminder_hour=_env_int("HMS_REMINDER_HOUR", 8),
            export_ttl_days=_env_int("HMS_EXPORT_TTL_DAYS", 7),
            jwt_secret=_env("HMS_JWT_SECRET", "") or "",
            access_token_minutes=_env_int("HMS_ACCESS_TOKEN_MINUTES", 10),
            session_idle_minutes=_env_float("HMS_SESSION_IDLE_MINUTES", 30.0),
            patient_session_idle_minutes=_env_float("HMS_PATIENT_SESSION_IDLE_MINUTES", 60.0),
            session_hours=_env_float("HMS_SESSION_HOURS", 12.0),
            refresh_grace_seconds=_env_int("HMS_REFRESH_GRACE_SECONDS", 10),
            admin_password=_env("HMS_ADMIN_PASSWORD"),
            admin_totp_required=_env_optional_bool("HMS_ADMIN_TOTP_REQUIRED"),
            doctor_totp_required=_env_bool("HMS_DOCTOR_TOTP_REQUIRED", False),
            demo_data=_env_bool("HMS_DEMO_DATA", False),
            smtp_host=_env("HMS_SMTP_HOST"),
            smtp_port=_env_int("HMS_SMTP_PORT", 25),
            smtp_user=_env("HMS_SMTP_USER"),
            smtp_password=_env("HMS_SMTP_PASSWORD"),
            smtp_tls=_env_optional_bool("HMS_SMTP_TLS"),
            smtp_allow_plain=_env_bool("HMS_SMTP_ALLOW_PLAIN", False),
            mail_from=_env("HMS_MAIL_FROM", "hospital@localhost") or "hospital@localhost",
            webhook_url=_env("HMS_WEBHOOK_URL"),
            sms_enabled=_env_bool("HMS_SMS_ENABLED", False),
            sms_url=_env("HMS_SMS_URL"),
            cors_origins=[o.strip() for o in (_env("HMS_CORS_ORIGINS", "") or "").split(",") if o.strip()],
            login_max_failures=_env_int("HMS_LOGIN_MAX_FAILURES", 5),
            login_lock_minutes=_env_int("HMS_LOGIN_LOCK_MINUTES", 15),
            login_ip_failures_per_minute=_env_int("HMS_LOGIN_IP_FAILURES_PER_MINUTE", 30),
            trusted_proxies=_env_int("HMS_TRUSTED_PROXIES", 0),
            rate_limit_register=_env("HMS_RATE_LIMIT_REGISTER", "10 per hour") or "",
            rate_limit_refresh=_env("HMS_RATE_LIMIT_REFRESH", "120 per minute") or "",
            rate_limit_change_password=_env("HMS_RATE_LIMIT_CHANGE_PASSWORD", "10 per hour") or "",
            rate_limit_exports=_env("HMS_RATE_LIMIT_EXPORTS", "30 per hour") or "",
            rate_limit_password_reset=_env("HMS_RATE_LIMIT_PASSWORD_RESET", "10 per hour") or "",
            password_reset_per_hour=_env_int("HMS_PASSWORD_RESET_PER_HOUR", 3),
            password_reset_floor_seconds=_env_float("HMS_PASSWORD_RESET_FLOOR_SECONDS", PASSWORD_RESET_FLOOR_SECONDS),
            register_floor_seconds=_env_float("HMS_REGISTER_FLOOR_SECONDS", REGISTER_FLOOR_SECONDS),
            argon2_time_cost=_env_int("HMS_ARGON2_TIME_COST", 3),
            argon2_memory_kib=_env_int("HMS_ARGON2_MEMORY_KIB", 65536),
            argon2_parallelism=_env_int("HMS_ARGON2_PARALLELISM", 4),
            max_active_bookings=_env_int("HMS_MAX_ACTIVE_BOOKINGS", 5),
            calendar_feed_details=_env_bool("HMS_CALENDAR_FEED_DETAILS", False),
            api_docs=_env_optional_bool("HMS_API_DOCS"),
            audit_key=_env("HMS_AUDIT_KEY", "") or "",
            cache_seconds=_env_int("HMS_CACHE_SECONDS", 300),
            redis_retry_seconds=float(_env("HMS_REDIS_RETRY_SECONDS", "5") or 5),
            outbox_grace_seconds=_env_int("HMS_OUTBOX_GRACE_SECONDS", 60),
            export_lease_seconds=_env_int("HMS_EXPORT_LEASE_SECONDS", 720),
            invoice_tax_percent=Decimal(_env("HMS_INVOICE_TAX_PERCENT", "0") or "0"),
            financial_year_start_month=_env_int("HMS_FINANCIAL_YEAR_START_MONTH", 4),
            currency=(_env("HMS_CURRENCY", "INR") or "INR").upper(),
            public_url=_env("HMS_PUBLIC_URL", f"http://127.0.0.1:{port}") or f"http://127.0.0.1:{port}",
        )
        for key, value in overrides.items():
            setattr(settings, key, value)
        settings.finalise()
        return settings

    def finalise(self) -> None:
        """Fill what depends on other settings and refuse unsafe production configurations."""
        self.instance_path = Path(self.instance_path)
        self.instance_path.mkdir(parents=True, exist_ok=True)
        if not self.database_url:
            self.database_url = f"sqlite:///{self.instance_path / 'hms.sqlite3'}"
        self.database_url = normalise_database_url(self.database_url)
        ZoneInfo(self.timezone)  # fail at start, not at the first booking, on a misspelt zone
        if not 1 <= self.booking_horizon_days <= 90:
            raise ValueError("HMS_BOOKING_HORIZON_DAYS must be between 1 and 90")
        self.invoice_tax_percent = Decimal(str(self.invoice_tax_percent))
        if not Decimal(0) <= self.invoice_tax_percent <= Decimal(100):
            raise ValueError("HMS_INVOICE_TAX_PERCENT must be between 0 and 100")
        if not 1 <= self.financial_year_start_month <= 12:
            raise ValueError("HMS_FINANCIAL_YEAR_START_MONTH must be a month number, 1 to 12")
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise ValueError("HMS_CURRENCY must be an ISO 4217 code such as INR")
        if self.env == "production" and (
            self.argon2_time_cost < 3 or self.argon2_memory_kib < 65536 or self.argon2_parallelism < 1
        ):
            raise RuntimeError("production keeps argon2id at time cost >= 3 and memory >= 64 MiB")
        if not (self.session_idle_minutes > 0 and self.patient_session_idle_minutes > 0 and self.session_hours > 0):
            raise ValueError(
                "HMS_SESSION_IDLE_MINUTES, HMS_PATIENT_SESSION_IDLE_MINUTES and HMS_SESSION_HOURS must be > 0"
            )
        if self.smtp_tls is None:
            self.smtp_tls = bool(self.smtp_host) and not is_loopback(self.smtp_host)
        if self.admin_totp_required is None:
            self.admin_totp_required = self.is_production
        if self.api_docs is None:
            self.api_docs = not self.is_production
        if not self.jwt_secret:
            if self.is_production:
                raise RuntimeError("HMS_JWT_SECRET must be set when HMS_ENV=production")
            self.jwt_secret = self._instance_secret("jwt_secret")
        if not self.audit_key:
            self.audit_key = self._instance_secret("audit_key")
        if self.is_production:
            self._refuse_weak_production_settings()

    def _refuse_weak_production_settings(self) -> None:
        """Production must not start with settings that a stranger could exploit (see README, Running in production)."""
        problems = []
        if len(self.jwt_secret.encode()) < MIN_SECRET_BYTES:
            problems.append(f"HMS_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")
        if len(self.audit_key.encode()) < MIN_SECRET_BYTES:
            problems.append(f"HMS_AUDIT_KEY must be at least {MIN_SECRET_BYTES} bytes")
        if self.demo_data:
            problems.append("HMS_DEMO_DATA must be off")
        if self.password_reset_floor_seconds < PASSWORD_RESET_FLOOR_SECONDS:
            problems.append(f"HMS_PASSWORD_RESET_FLOOR_SECONDS must be at least {PASSWORD_RESET_FLOOR_SECONDS}")
        if self.register_floor_seconds < REGISTER_FLOOR_SECONDS:
            problems.append(f"HMS_REGISTER_FLOOR_SECONDS must be at least {REGISTER_FLOOR_SECONDS}")
        if self.smtp_host and not self.smtp_tls and not is_loopback(self.smtp_host) and not self.smtp_allow_plain:
            problems.append("plain SMTP to a remote host: set HMS_SMTP_TLS=1 (or HMS_SMTP_ALLOW_PLAIN=1)")
        if problems:
            raise RuntimeError("Refusing to start with HMS_ENV=production: " + "; ".join(problems) + ".")

    def _instance_secret(self, name: str) -> str:
        """A secret generated once per instance folder (outside the database), so it survives restarts."""
        path = self.instance_path / name
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    @property
    def totp_required_roles(self) -> frozenset[str]:
        """The roles that must turn on two-factor sign-in before anything else."""
        return frozenset(
            role for role, on in (("admin", self.admin_totp_required), ("doctor", self.doctor_totp_required)) if on
        )

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def exports_dir(self) -> Path:
        path = self.instance_path / "exports"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def mailbox_dir(self) -> Path:
        path = self.instance_path / "mailbox"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def broker_url(self) -> str:
        if self.redis_url:
            return self.redis_url
        return f"sqlalchemy+sqlite:///{self.instance_path / 'broker.sqlite3'}"

    @property
    def result_backend(self) -> str:
        if self.redis_url:
            return self.redis_url
        return f"db+sqlite:///{self.instance_path / 'celery-results.sqlite3'}"
