from datetime import datetime

from pydantic import ConfigDict, Field

from stockflow.core.schemas import OptionalText, Schema


class ApiKeyCreate(Schema):
    name: OptionalText | None = Field(
        default=None, description="A label to tell keys apart (e.g. where the key is used)."
    )

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "warehouse scanners"}]})


class ApiKeyRead(Schema):
    id: int
    name: str | None
    created_at: datetime
    last_used_at: datetime | None = Field(
        description="When the key last authenticated a request; may lag by up to 60 s."
    )
    revoked_at: datetime | None

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "name": "warehouse scanners",
                    "created_at": "2026-12-04T12:00:00Z",
                    "last_used_at": "2026-12-04T12:30:00Z",
                    "revoked_at": None,
                }
            ]
        },
    )


class ApiKeyCreated(Schema):
    id: int
    name: str | None
    created_at: datetime
    api_key: str = Field(description="The key (`sf_<id>_<secret>`). Shown only this once.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "name": "warehouse scanners",
                    "created_at": "2026-12-04T12:00:00Z",
                    "api_key": "sf_7_Zm9vYmFy...",
                }
            ]
        }
    )
