from stockflow.core.errors import Conflict, NotFound


class DuplicateProductTypeName(Conflict):
    slug, title = "duplicate-product-type-name", "Product type name already exists"


def product_type_not_found(product_type_id: int) -> NotFound:
    return NotFound(f"Product type {product_type_id} not found.")


def duplicate_name(name: str) -> DuplicateProductTypeName:
    return DuplicateProductTypeName(
        f"The company already has a product type named {name!r} (names ignore case)."
    )
