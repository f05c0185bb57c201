"""/metrics stays bounded and tells what operators need; request log lines name the
company and the problem type."""

import json
import re

import pytest
import structlog
from httpx import AsyncClient

from tests.factories import create_company, create_product, create_warehouse


def _route_series(text: str) -> set[str]:
    return set(re.findall(r'^stockflow_http_requests_total\{[^}]*route="([^"]*)"', text, re.M))


async def test_junk_paths_share_one_route_label(anon: AsyncClient) -> None:
    await anon.get("/metrics")  # its own series, present in both scrapes below
    for i in range(200):
        await anon.get(f"/api/companies/1/zz-card-{i}")
        await anon.get(f"/no-such-page-{i}")
    before = (await anon.get("/metrics")).text
    for i in range(200, 400):
        await anon.get(f"/api/companies/{i}/junk-{i}/x")
    after = (await anon.get("/metrics")).text
    assert "unmatched" in _route_series(after)
    assert not any("zz-card" in r or "junk" in r or "no-such" in r for r in _route_series(after))
    assert _route_series(after) == _route_series(before)


async def test_metrics_cover_pool_ledger_and_report(client: AsyncClient) -> None:
    company = await create_company(client)
    warehouse = await create_warehouse(client, company["id"])
    product = await create_product(client, company["id"], low_stock_threshold=10)
    base = f"/api/companies/{company['id']}"
    line = {"product_id": product["id"], "warehouse_id": warehouse["id"]}
    for reason, delta in (("receipt", 5), ("sale", -2)):
        r = await client.post(
            f"{base}/stock-movements", json={"reason": reason, "lines": [{**line, "delta": delta}]}
        )
        assert r.status_code == 201
    assert (await client.get(f"{base}/alerts/low-stock")).status_code == 200
    text = (await client.get("/metrics")).text
    assert re.search(r'^stockflow_ledger_entries_total\{reason="sale"\} [1-9]', text, re.M)
    assert re.search(r"^stockflow_low_stock_report_seconds_count [1-9]", text, re.M)
    assert 'stockflow_db_pool_connections{state="checked_out"}' in text
    assert re.search(r"^stockflow_db_pool_size [1-9]", text, re.M)


async def test_request_log_line_has_company_and_problem_type(
    client: AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    company = await create_company(client)
    structlog.configure(
        processors=[structlog.processors.JSONRenderer()],
        logger_factory=structlog.PrintLoggerFactory(),
        cache_logger_on_first_use=False,
    )
    from stockflow.core import logging as request_logging

    request_logging.log = structlog.get_logger("stockflow.http")
    try:
        r = await client.get(f"/api/companies/{company['id']}/warehouses/999999")
        assert r.status_code == 404
        lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    finally:
        structlog.reset_defaults()
        request_logging.log = structlog.get_logger("stockflow.http")
    request = [x for x in lines if x.get("event") == "request"][-1]
    assert request["company_id"] == str(company["id"])
    assert request["status"] == 404
    assert request["problem_type"] == r.json()["type"].rsplit("/", 1)[-1]
