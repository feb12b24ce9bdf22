"""`/healthz` (the process answers) and `/readyz` (the database answers and its schema is at
the head migration: a process in front of an unmigrated database is not ready)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse

READY_TIMEOUT = 2.0


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    engine: AsyncEngine = request.app.state.engine
    head = request.app.state.head_revision
    try:
        async with asyncio.timeout(READY_TIMEOUT), engine.connect() as conn:
            current = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        return JSONResponse(
            {"status": "unavailable", "database": f"unreachable ({type(exc).__name__})"},
            status_code=503,
        )
    if current != head:
        return JSONResponse(
            {"status": "unavailable", "database": f"at migration {current}, expected {head}"},
            status_code=503,
        )
    return JSONResponse({"status": "ready", "migration": current})
