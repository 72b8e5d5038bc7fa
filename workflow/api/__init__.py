"""The JSON API under /api/v1: thin routes that parse, call the service and render.

Each module holds the routes of one subject; `router()` gathers them. Errors are rendered by the
server's handlers (`workflow.server`) from the one table in `workflow.errors`.
"""

from workflow.api.routes import router

__all__ = ["router"]
