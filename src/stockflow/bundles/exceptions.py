from stockflow.core.errors import InvalidInput, NotFound


def bundle_not_found(product_id: int) -> NotFound:
    return NotFound(f"Product {product_id} not found.")


def components_not_found(product_ids: list[int]) -> NotFound:
    listed = ", ".join(str(p) for p in product_ids)
    return NotFound(f"Component product(s) not found: {listed}.")


def invalid_components(msg: str, index: int | None = None) -> InvalidInput:
    loc: list[str | int] = ["body"] if index is None else ["body", index, "product_id"]
    return InvalidInput(msg, errors=[{"loc": loc, "msg": msg}])
