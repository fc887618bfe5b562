"""Hospital Management System: the application factory."""

from __future__ import annotations

import gc
import importlib
import importlib.util
import logging
from pathlib import Path

from flask import Flask, abort, send_from_directory

from hms.config import Settings

# Domain packages, in the order their blueprints register. Each has views (views.py, or a views/ package whose
# __init__ imports its area modules) with `blueprints`, and may have cli.py with `commands` (click commands added
# under `flask hms ...`).
DOMAIN_PACKAGES = (
    "health",
    "accounts",
    "directory",
    "scheduling",
    "clinical",
    "billing",
    "desk",
    "notifications",
    "reports",
    "exports",
    "audit",
    "analytics",
)
# Packages without views that add commands (`demo-data`).
COMMAND_PACKAGES = ("demo",)


def create_app(settings: Settings | None = None) -> Flask:
    """Build a configured application; tests pass their own Settings, everything else reads the environment."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_path=str(settings.instance_path), static_folder=None)
    app.config["HMS"] = settings
    _configure(app, settings)
    _init_extensions(app, settings)
    _register_domains(app)
    _register_fhir(app)
    _register_spa(app, settings)
    if settings.trusted_proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Only the last N hops are believed: throttles, rate limits and the audit log all see this address.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)  # type: ignore[method-assign]
    if settings.is_production:
        from hms.demo.guard import refuse_demo_passwords

        with app.app_context():
            refuse_demo_passwords()
    logging.basicConfig(level=logging.INFO)
    _freeze_what_startup_made(settings)
    return app


def _freeze_what_startup_made(settings: Settings) -> None:
    """Move every object alive after start-up (modules, mappers, compiled statements, the app) out of the garbage
    collector's reach, as the Python docs advise for long-lived servers (gc.freeze).

    A full collection otherwise walks all of them again, and it stops every thread of the process meanwhile; list
    requests build thousands of ORM objects, so collections are frequent under load. With `make bench` (SQLite,
    16 clients, alternated four times) the lists' p99 fell from 133-273 ms to 105-183 ms. Garbage made before is
    collected first. Tests build hundreds of apps in one process and keep none of them: theirs stay collectable.
    """
    if settings.testing:
        return
    gc.collect()
    gc.freeze()


def _configure(app: Flask, settings: Settings) -> None:
    from datetime import timedelta

    from hms.common.redis_guard import client_options

    app.config.update(
        TESTING=settings.testing,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=(
            {"connect_args": {"timeout": _sqlite_busy_seconds(settings), "check_same_thread": False}}
            if settings.is_sqlite
            else {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20, "pool_timeout": 10}
        ),
        JWT_SECRET_KEY=settings.jwt_secret,
        JWT_TOKEN_LOCATION=["headers"],
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(minutes=settings.access_token_minutes),
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        API_TITLE="Hospital Management System API",
        API_VERSION="1.0",
        OPENAPI_VERSION="3.0.3",
        # Production hides the API map unless HMS_API_DOCS=1 asks for it.
        OPENAPI_URL_PREFIX="/api" if settings.api_docs else None,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/api/docs/assets/",
        API_SPEC_OPTIONS={
            "components": {
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
            },
            "security": [{"bearerAuth": []}],
        },
        # No Redis: a SQLite file that every web process shares (hms/common/sqlite_cache.py), so the default
        # server can run one process per core and an invalidation in one is seen by all.
        CACHE_TYPE="RedisCache" if settings.redis_url else "hms.common.sqlite_cache.SQLiteCache",
        CACHE_DIR=str(settings.instance_path / "cache.sqlite3"),
        CACHE_REDIS_URL=settings.redis_url,
        CACHE_OPTIONS=client_options() if settings.redis_url else {},
        CACHE_KEY_PREFIX=str(settings.extra.get("cache_prefix", "hms:")),
        CACHE_DEFAULT_TIMEOUT=settings.cache_seconds,
        RATELIMIT_STORAGE_URI=settings.redis_url or "memory://",
        RATELIMIT_KEY_PREFIX=str(settings.extra.get("cache_prefix", "hms:")) + "rl",
        RATELIMIT_HEADER_RETRY_AFTER_VALUE="delta-seconds",
        # Redis down: limits are counted per process in memory (looser by the number of processes, never off).
        RATELIMIT_STORAGE_OPTIONS=client_options() if settings.redis_url else {},
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
    )


def _sqlite_busy_seconds(settings: Settings) -> float:
    """How long a SQLite writer waits for the lock before the request answers 503 (tests shorten it)."""
    return float(settings.extra.get("sqlite_busy_seconds", 30))  # type: ignore[arg-type]


def _init_extensions(app: Flask, settings: Settings) -> None:
    from hms.common.auth import init_jwt
    from hms.common.db import configure_sqlite_engine
    from hms.common.errors import register_error_handlers
    from hms.common.redis_guard import client_options, init_breaker
    from hms.extensions import api, cache, db, jwt, limiter, migrate

    init_breaker(app)
    db.init_app(app)
    with app.app_context():
        if settings.is_sqlite:
            configure_sqlite_engine(db.engine, busy_seconds=_sqlite_busy_seconds(settings))
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    jwt.init_app(app)
    init_jwt(app)
    cache.init_app(app)
    limiter.init_app(app)
    api.init_app(app)
    register_error_handlers(app)
    importlib.import_module("hms.common.security").init_security(app)
    from hms.celery_app import celery_init_app

    celery_init_app(app)
    if settings.redis_url:
        import redis

        app.extensions["hms_redis"] = redis.Redis.from_url(settings.redis_url, **client_options())

    @app.teardown_appcontext
    def _remove_session(_exc: BaseException | None) -> None:
        db.session.remove()


def _register_domains(app: Flask) -> None:
    from hms.extensions import api

    for package in DOMAIN_PACKAGES:
        views = importlib.import_module(f"hms.{package}.views")
        for blueprint in getattr(views, "blueprints", []):
            api.register_blueprint(blueprint)
    for package in (*DOMAIN_PACKAGES, *COMMAND_PACKAGES):
        if importlib.util.find_spec(f"hms.{package}.cli") is not None:
            cli = importlib.import_module(f"hms.{package}.cli")
            for command in getattr(cli, "commands", []):
                app.cli.add_command(command)

    if not app.config["HMS"].api_docs:
        return
    import swagger_ui_bundle

    @app.get("/api/docs/assets/<path:filename>")
    def swagger_assets(filename: str):
        """Swagger UI from the installed package: nothing is fetched from a CDN."""
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)


def _register_fhir(app: Flask) -> None:
    """FHIR R4 at /fhir: a plain blueprint, described by its own CapabilityStatement, not by the OpenAPI document."""
    from hms.fhir.views import blp

    app.register_blueprint(blp)


def _register_spa(app: Flask, settings: Settings) -> None:
    """Serve the built Vue app at / with history-mode fallback; /api and /fhir never fall back to HTML."""
    dist = Path(settings.frontend_dist)

    @app.get("/", defaults={"path": ""})
    @app.get("/<spa_path:path>")
    def spa(path: str):
        if path.startswith(("api/", "fhir/")) or path in {"api", "fhir"}:
            abort(404)
        candidate = dist / path
        if path and candidate.is_file():
            return send_from_directory(dist, path)
        if (dist / "index.html").is_file():
            response = send_from_directory(dist, "index.html")
            response.headers["Cache-Control"] = "no-cache"
            return response
        return (
            "<!doctype html><title>HMS</title><h1>Hospital Management System</h1>"
            "<p>The web front end is not built yet: run <code>make run</code> (or <code>make frontend</code>)."
            " The API is at <a href='/api/docs'>/api/docs</a>.</p>",
            200,
        )
