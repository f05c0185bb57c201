from stockflow.core.errors import DuplicateSku, InvalidInput, NotFound


def product_not_found(product_id: int) -> NotFound:
    return NotFound(f"Product {product_id} not found.")


def duplicate_sku(sku: str) -> DuplicateSku:
    return DuplicateSku(f"A product with SKU {sku!r} already exists.")


def invalid_field(field: str, msg: str) -> InvalidInput:
    return InvalidInput(msg, errors=[{"loc": ["body", field], "msg": msg}])
