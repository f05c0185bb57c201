"""The ASGI application: `create_app()` wires settings, database, errors and routers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from stockflow.alerts.router import router as alerts_router
from stockflow.api_keys.revocation import start_revocation_listener
from stockflow.api_keys.router import router as api_keys_router
from stockflow.api_keys.service import flush_key_usage
from stockflow.bundles.router import router as bundles_router
from stockflow.companies.router import router as companies_router
from stockflow.core import admin_token_file
from stockflow.core.background import BackgroundRunner, Job, JobContext
from stockflow.core.database import create_engine, create_sessionmaker, resolve_database_url
from stockflow.core.embedded import to_asyncpg_url
from stockflow.core.errors import install_error_handlers
from stockflow.core.idempotency import IdempotentReplay, purge_job, replay_response
from stockflow.core.logging import RequestContextMiddleware, configure_logging
from stockflow.core.openapi import API_DESCRIPTION, install_openapi, operation_id
from stockflow.core.reliability import install_reliability
from stockflow.core.settings import Settings, get_settings
from stockflow.events.retention import RETENTION_JOB
from stockflow.events.router import router as events_router
from stockflow.events.sequencer import SEQUENCER_JOB
from stockflow.inventory.router import router as inventory_router
from stockflow.ledger.router import router as ledger_router
from stockflow.me.router import router as me_router
from stockflow.operations.router import router as operations_router
from stockflow.product_types.router import router as product_types_router
from stockflow.products.router import router as products_router
from stockflow.purchasing.router import router as purchasing_router
from stockflow.reservations.jobs import EXPIRY_JOB
from stockflow.reservations.router import router as reservations_router
from stockflow.suppliers.router import router as suppliers_router
from stockflow.warehouses.router import router as warehouses_router
from stockflow.webhooks.delivery import DELIVERY_JOB
from stockflow.webhooks.router import router as webhooks_router

log = structlog.get_logger(__name__)

# FastAPI tries routes one by one, in this order, and every miss costs a regex match and
# some bookkeeping; the write path and the reads clients poll come first. No two routes
# match the same method and path (tests/api/test_routes.py), so the order changes nothing
# else; /docs groups operations by tag, in core/openapi.py's order.
RESOURCE_ROUTERS = [
    ledger_router,
    reservations_router,
    purchasing_router,
    alerts_router,
    inventory_router,
    events_router,
    companies_router,
    warehouses_router,
    product_types_router,
    products_router,
    suppliers_router,
    bundles_router,
    api_keys_router,
    me_router,
    webhooks_router,
]


# The background loops every worker runs (see core/background.py); each package that has
# periodic work (sweeps, deliveries) adds its `Job` here.
BACKGROUND_JOBS: list[Job] = [
    Job("api_key_usage", flush_key_usage, interval_seconds=20.0, batch_size=10**9),
    SEQUENCER_JOB,
    RETENTION_JOB,
    DELIVERY_JOB,
    EXPIRY_JOB,
]
BACKGROUND_JOBS.append(purge_job(get_settings()))


def _admin_token(settings: Settings) -> str:
    if settings.admin_token is not None:
        return settings.admin_token.get_secret_value()
    return admin_token_file.load_or_create(settings)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Tests may install their own engine before start-up.
        own_engine = not hasattr(app.state, "engine")
        if own_engine:
            app.state.engine = create_engine(resolve_database_url(settings), settings)
            app.state.sessionmaker = create_sessionmaker(app.state.engine)
        own_read_engine = settings.read_database_url and not hasattr(app.state, "read_engine")
        if own_read_engine:
            # The low-stock report reads here (a replica); everything else, the primary.
            read_url = to_asyncpg_url(settings.read_database_url or "")
            app.state.read_engine = create_engine(read_url, settings)
            app.state.read_sessionmaker = create_sessionmaker(app.state.read_engine)
        if not hasattr(app.state, "admin_token"):
            app.state.admin_token = _admin_token(settings)
        runner: BackgroundRunner | None = None
        if settings.background_jobs and BACKGROUND_JOBS:
            ctx = JobContext(app.state.engine, app.state.sessionmaker, settings)
            runner = BackgroundRunner(ctx, BACKGROUND_JOBS)
            runner.start()
        # Trust cached keys only while revocations can reach this worker.
        key_listener = start_revocation_listener(app, app.state.engine)
        log.info("stockflow_started")
        yield
        await key_listener.stop()
        if runner is not None:
            await runner.stop()
        if own_engine:
            await app.state.engine.dispose()
        if own_read_engine:
            await app.state.read_engine.dispose()

    # The docs pages load Swagger UI and ReDoc from the installed package, not a CDN, so
    # /docs and /redoc work offline; the document itself is core/openapi.py's.
    app = FastAPIOffline(
        title="StockFlow",
        version="0.1.0",
        summary="Multi-tenant inventory: catalog, stock ledger and low-stock report.",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        swagger_ui_parameters={"persistAuthorization": True, "displayOperationId": True},
    )
    install_openapi(app)
    app.state.settings = settings
    install_error_handlers(app)
    app.add_exception_handler(IdempotentReplay, replay_response)
    install_reliability(app, settings)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(operations_router)
    for router in RESOURCE_ROUTERS:
        app.include_router(router, prefix="/api")
    return app
