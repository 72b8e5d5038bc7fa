"""The server's composition root: the API, the pages, the scheduler and the dispatcher.

`create_app` builds the ASGI application over a service (tests pass their own, with a fixed
clock). `serve` runs it with uvicorn and, in the same process, the deadline scheduler (which
works only while it holds the lease, so several servers on one PostgreSQL share it safely) and
the notification dispatcher (which claims outbox rows with SKIP LOCKED). Nothing starts at import.
"""

from __future__ import annotations

import gc
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import anyio.to_thread
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workflow import access, api
from workflow.errors import Refused, WorkflowError, http_status
from workflow.service import Service
from workflow.settings import Settings

__all__ = ["create_app", "serve"]

log = structlog.get_logger("thidua.http")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._\-]{1,64}")


class RequestContext:
    """Give each request an id (X-Request-ID, kept when the caller sent a sane one), bind it to
    the logs, and log one line per request with its status and duration."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = sent if _REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        structlog.contextvars.clear_contextvars()
        with structlog.contextvars.bound_contextvars(
            request_id=request_id, method=scope["method"], path=scope["path"]
        ):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                actor = scope["state"].get("actor")
                log.info(
                    "request.done",
                    status=status,
                    ms=round((time.perf_counter() - started) * 1000, 2),
                    **({"actor": actor} if actor else {}),
                )


def _error(request: Request, status: int, body: dict[str, Any]) -> JSONResponse:
    body["request_id"] = getattr(request.state, "request_id", None)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def _workflow_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WorkflowError)
    body: dict[str, Any] = {"error": exc.code, "message": str(exc)}
    if isinstance(exc, Refused):
        body["rule"] = exc.rule
    status = http_status(exc)
    if status >= 500:
        log.error("request.failed", error=exc.code, message=str(exc))
    return _error(request, status, body)


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = exc.errors()
    if any(problem.get("type") == "json_invalid" for problem in problems):
        return _error(
            request,
            400,
            {"error": "bad_request", "message": "the request body is not valid JSON"},
        )
    details = [
        {"field": ".".join(str(part) for part in problem.get("loc", ())), "problem": problem["msg"]}
        for problem in problems
    ]
    message = "; ".join(f"{d['field']}: {d['problem']}" for d in details)
    return _error(request, 422, {"error": "invalid_input", "message": message, "details": details})


def _http_error(request: Request, exc: Exception) -> Response:
    """A JSON error; a Vietnamese page instead for a browser outside the API, where the web
    pages are installed (workflow.web.page_error)."""
    assert isinstance(exc, StarletteHTTPException)
    page_error = getattr(request.app.state, "page_error", None)
    page: Response | None = page_error(request, exc.status_code) if page_error else None
    if page is not None:
        return page
    codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated"}
    body = {"error": codes.get(exc.status_code, "http_error"), "message": str(exc.detail)}
    return _error(request, exc.status_code, body)


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("request.crashed")
    return _error(
        request,
        500,
        {"error": "internal", "message": "the server failed; the request id names it in the log"},
    )


def create_app(
    service: Service,
    settings: Settings | None = None,
    lifespan: Callable[[FastAPI], Any] | None = None,
) -> FastAPI:
    """The ASGI application over `service`: /api/v1, its OpenAPI document, and the web pages."""
    from workflow import web  # the pages import the service's views; kept out of the API's path

    app = FastAPI(
        title="thidua",
        summary="Thi đua – khen thưởng: nominations through their approval chains, audited",
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    access.dummy_hash()  # before the first sign-in, so an unknown name answers as fast as any
    app.state.service = service
    app.state.settings = settings or Settings()
    app.add_exception_handler(WorkflowError, _workflow_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    app.include_router(api.router)
    web.install(app)
    app.add_middleware(RequestContext)
    return app


# -- the process -----------------------------------------------------------------------------------


class Background:
    """The scheduler and the dispatcher, each in a thread, stopped together."""

    def __init__(self, service: Service, settings: Settings) -> None:
        self.service = service
        self.settings = settings
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        if self.settings.run_scheduler:
            self._spawn("scheduler", self._scheduler)
        if self.settings.run_dispatcher:
            self._spawn("dispatcher", self._dispatcher)

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=f"thidua-{name}", daemon=True)
        thread.start()
        self.threads.append(thread)

    def _scheduler(self) -> None:
        import os

        from workflow.scheduler import DeadlineScheduler, SchedulerSettings

        url = self.service.engine.url.render_as_string(hide_password=False)
        with structlog.contextvars.bound_contextvars(worker="scheduler"):
            DeadlineScheduler(SchedulerSettings.from_env(url, os.environ)).run(self.stop)

    def _dispatcher(self) -> None:
        from workflow.dispatch import build_dispatcher

        settings = self.settings.notifications
        dispatcher = build_dispatcher(self.service.engine, settings, self.service.clock)
        with structlog.contextvars.bound_contextvars(worker="dispatcher"):
            dispatcher.run(self.stop, settings.poll)

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


def _lifespan(
    service: Service, settings: Settings, ready: Callable[[str], None] | None = None
) -> Callable[[FastAPI], Any]:
    """Start the scheduler and the dispatcher with the application, stop them with it."""
    background = Background(service, settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # A request runs in a thread and uses one connection at a time: as many threads as
        # pooled connections, so that a busy server queues requests instead of opening and
        # closing connections beyond the pool (under 32 clients it had opened one for every
        # four requests).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.db_pool_size
        background.start()
        try:
            with serving_collector():
                address = f"http://{settings.host}:{settings.port}"
                log.info("server.started", address=address)
                if ready is not None:
                    ready(address)
                yield
        finally:
            background.close()
            log.info("server.stopped")

    return lifespan


#: The collector's thresholds while the server answers (the interpreter's are 700, 10, 10):
#: the youngest generation is collected after 20,000 new objects instead of 700.
SERVING_GC_THRESHOLD = (20_000, 20, 20)


@contextmanager
def serving_collector() -> Iterator[None]:
    """Keep Python's cyclic garbage collector off the request path while the server answers.

    What startup built — modules, routes, schemas, templates, the engine — lives as long as the
    process: `gc.freeze` takes it out of the collector's sight, so that a full collection no
    longer walks it, and the youngest generation is collected less often. Under 32 approving
    clients a full collection had stopped every request for up to 135 ms (0.8 s in 3,000
    requests); with this none ran while serving. On leaving, both are undone."""
    previous = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVING_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()


def app_from_env() -> FastAPI:
    """The application of one worker process of `thidua serve --workers N`, from the environment
    the parent process left (THIDUA_DATABASE_URL and the other settings)."""
    import os

    from workflow.db import make_engine
    from workflow.logs import configure_logging

    settings = Settings.from_env(os.environ)
    configure_logging(settings.log_level)
    service = Service(make_engine(settings.database_url, settings.db_pool_size))
    return create_app(service, settings, _lifespan(service, settings))


def serve(service: Service, settings: Settings, ready: Callable[[str], None] | None = None) -> None:
    """Run the server until SIGINT/SIGTERM: API and pages, scheduler and dispatcher.

    With `settings.workers` > 1, that many processes answer on the port (uvicorn's supervisor),
    each over its own engine on `service`'s database."""
    import os

    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn, except that a stop by SIGTERM or SIGINT is a clean exit (status 0): uvicorn
        would raise the captured signal again once it has shut down."""

        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            with super().capture_signals():
                try:
                    yield
                finally:
                    captured = getattr(self, "_captured_signals", None)
                    if isinstance(captured, list):
                        captured.clear()

    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "access_log": False,
        "proxy_headers": False,
    }
    if settings.workers > 1:
        # The workers are new processes: they read the database and settings from the
        # environment, so the URL given by --db goes there too.
        os.environ["THIDUA_DATABASE_URL"] = service.engine.url.render_as_string(hide_password=False)
        service.engine.dispose()
        if ready is not None:
            ready(f"http://{settings.host}:{settings.port}")
        uvicorn.run(
            "workflow.server:app_from_env", factory=True, workers=settings.workers, **options
        )
        return
    app = create_app(service, settings, _lifespan(service, settings, ready))
    Server(uvicorn.Config(app, **options)).run()
