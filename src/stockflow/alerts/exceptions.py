from stockflow.core.errors import NotFound


def warehouse_not_found(warehouse_id: int) -> NotFound:
    return NotFound(f"Warehouse {warehouse_id} not found.")


def product_type_not_found(product_type_id: int) -> NotFound:
    return NotFound(f"Product type {product_type_id} not found.")
