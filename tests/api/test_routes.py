"""The route table: no two operations answer the same method and path.

main.py orders the routers by traffic (FastAPI tries routes in order); that is only
safe while no request could match two routes, which this checks for every pair."""

from itertools import combinations

from stockflow.core.settings import Settings
from stockflow.main import create_app


def _segments_overlap(a: str, b: str) -> bool:
    """Whether some path matches both templates (`{name}` matches one segment)."""
    left, right = a.strip("/").split("/"), b.strip("/").split("/")
    if len(left) != len(right):
        return False
    return all(
        x == y or x.startswith("{") or y.startswith("{") for x, y in zip(left, right, strict=True)
    )


def test_no_two_operations_match_the_same_request(settings: Settings) -> None:
    document = create_app(settings).openapi()
    operations = [
        (path, method.upper()) for path, item in document["paths"].items() for method in item
    ]
    assert any(path.endswith("/stock-movements") for path, _ in operations)
    for path in document["paths"]:
        assert "{" not in path or ":" not in path, f"{path}: a converter spans segments"
    clashes = [
        (a, b)
        for (a, method_a), (b, method_b) in combinations(operations, 2)
        if method_a == method_b and _segments_overlap(a, b)
    ]
    assert clashes == []


def test_the_overlap_rule_itself() -> None:
    assert _segments_overlap("/a/{id}", "/a/b")
    assert _segments_overlap("/a/{id}/c", "/a/{x}/c")
    assert not _segments_overlap("/a/{id}", "/a/{id}/c")
    assert not _segments_overlap("/a/b", "/a/c")
