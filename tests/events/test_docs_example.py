"""The consumer page's Python example runs: it follows the feed and verifies a real
webhook signature."""

import json
import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from stockflow.webhooks.delivery import sign
from tests.events.helpers import sequence
from tests.factories import create_company
from tests.ledger.helpers import move, product, warehouse

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def _example() -> dict[str, Any]:
    code = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(code) == 1
    namespace: dict[str, Any] = {}
    exec(compile(code[0], str(DOC), "exec"), namespace)  # noqa: S102 - our own doc
    return namespace


async def test_example_follows_the_feed(isolated_app: FastAPI, client: AsyncClient) -> None:
    example = _example()
    c = (await create_company(client))["id"]
    w = await warehouse(client, c)
    p = await product(client, c)
    for _ in range(3):
        await move(client, c, "receipt", [(p, w, 1)])
    await sequence(isolated_app)
    events = [e async for e in example["follow"](client, c)]
    assert [e["type"] for e in events] == ["product.created"] + ["stock.changed"] * 3
    rest = [e async for e in example["follow"](client, c, events[1]["id"])]
    assert rest == events[2:]


def test_example_verifies_signatures() -> None:
    verify = _example()["verify_signature"]
    body = json.dumps({"id": 1, "type": "stock.changed"}).encode()
    import time

    header = sign("whsec_abc", int(time.time()), body)
    assert verify("whsec_abc", header, body)
    assert not verify("whsec_abd", header, body)
    assert not verify("whsec_abc", header, body + b" ")
    assert not verify("whsec_abc", sign("whsec_abc", int(time.time()) - 3600, body), body)
    assert not verify("whsec_abc", "garbage", body)
