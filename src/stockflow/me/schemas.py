from typing import Literal

from pydantic import ConfigDict, Field

from stockflow.core.schemas import Schema


class MeRead(Schema):
    """Who the credential of the request is."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"role": "company", "company_id": 1, "key_id": 1},
                {"role": "admin", "company_id": None, "key_id": None},
            ]
        }
    )

    role: Literal["admin", "company"] = Field(
        description="`admin`: the platform admin token; `company`: one company's API key."
    )
    company_id: int | None = Field(description="The key's company; null for the admin.")
    key_id: int | None = Field(
        description="The API key's id (the `<id>` of `sf_<id>_…`); null for the admin."
    )
