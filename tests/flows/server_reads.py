"""Reading what a Prefect server holds, through its REST API (Prefect 3.8's sync client sends
`null` for unset paging fields of some filters, which the server refuses)."""

from __future__ import annotations

from typing import Any

import httpx

PAGE = 200


def api_url() -> str:
    from prefect.settings import PREFECT_API_URL

    value = PREFECT_API_URL.value()
    assert value, "no Prefect API configured"
    return str(value).rstrip("/")


def post(path: str, body: dict[str, Any], api: str | None = None) -> Any:
    response = httpx.post(f"{api or api_url()}{path}", json=body, timeout=30)
    response.raise_for_status()
    return response.json()


def get(path: str, api: str | None = None) -> Any:
    response = httpx.get(f"{api or api_url()}{path}", timeout=30)
    response.raise_for_status()
    return response.json()


def artifacts(key: str | None = None, api: str | None = None) -> list[dict[str, Any]]:
    """Artifacts (all, or of one key), newest first."""
    body: dict[str, Any] = {"sort": "CREATED_DESC", "limit": PAGE, "offset": 0}
    if key:
        body["artifacts"] = {"key": {"any_": [key]}}
    return list(post("/artifacts/filter", body, api))


def every(path: str, sort: str, api: str | None = None) -> list[dict[str, Any]]:
    """Every row of a filter endpoint (`/flow_runs/filter`, `/logs/filter`, ...), page by page."""
    rows: list[dict[str, Any]] = []
    while True:
        page = post(path, {"sort": sort, "limit": PAGE, "offset": len(rows)}, api)
        rows += page
        if len(page) < PAGE:
            return rows
