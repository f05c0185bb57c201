from stockflow.core.errors import InsufficientStock


def insufficient_stock(
    product_id: int, warehouse_id: int, available: int, delta: int
) -> InsufficientStock:
    return InsufficientStock(
        f"Product {product_id} in warehouse {warehouse_id} has {available} units; "
        f"a change of {delta} would make it negative. Nothing was applied."
    )


def insufficient_available(
    product_id: int, warehouse_id: int, on_hand: int, held: int, delta: int
) -> InsufficientStock:
    available = max(0, on_hand - held)
    return InsufficientStock(
        f"Product {product_id} in warehouse {warehouse_id} has {available} units available "
        f"({on_hand} on hand, {held} held by reservations); a change of {delta} would take "
        "held units. Nothing was applied."
    )
