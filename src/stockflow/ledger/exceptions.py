from stockflow.core.errors import InsufficientStock


def insufficient_stock(
    product_id: int, warehouse_id: int, available: int, delta: int
) -> InsufficientStock:
    return InsufficientStock(
        f"Product {product_id} in warehouse {warehouse_id} has {available} units; "
        f"a change of {delta} would make it negative. Nothing was applied."
    )
