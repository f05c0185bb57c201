from stockflow.core.errors import Conflict, InvalidInput, NotFound


def order_not_found(order_id: int) -> NotFound:
    return NotFound(f"Purchase order {order_id} not found.")


def wrong_status(order_id: int, status: str, action: str) -> Conflict:
    return Conflict(f"Purchase order {order_id} is {status}: it cannot be {action}.")


def over_receipt(order_id: int, product_id: int, outstanding: int, quantity: int) -> Conflict:
    return Conflict(
        f"Purchase order {order_id} still expects {outstanding} of product {product_id}; "
        f"a receipt of {quantity} is more than that."
    )


def invalid(detail: str, loc: list[str | int]) -> InvalidInput:
    return InvalidInput(detail, errors=[{"loc": loc, "msg": detail}])
