from typing import Annotated

from pydantic import Field

from stockflow.core.schemas import MAX_INT4, Id, Schema

MAX_COMPONENTS = 1000


class ComponentLine(Schema):
    product_id: Id
    quantity: Annotated[int, Field(strict=True, ge=1, le=MAX_INT4)] = Field(
        description="Units of this product in one bundle."
    )


class ComponentRead(Schema):
    product_id: int
    quantity: int
