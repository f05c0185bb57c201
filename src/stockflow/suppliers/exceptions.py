from stockflow.core.errors import Conflict, NotFound


def supplier_not_found(supplier_id: int) -> NotFound:
    return NotFound(f"Supplier {supplier_id} not found.")


def product_not_found(product_id: int) -> NotFound:
    return NotFound(f"Product {product_id} not found.")


def link_not_found(product_id: int, supplier_id: int) -> NotFound:
    return NotFound(f"Supplier {supplier_id} is not linked to product {product_id}.")


def primary_race(product_id: int) -> Conflict:
    return Conflict(
        f"Another request changed product {product_id}'s primary supplier at the same time; retry."
    )
