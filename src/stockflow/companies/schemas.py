from datetime import datetime

from pydantic import ConfigDict, Field

from stockflow.core.schemas import Name, Schema


class CompanyCreate(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Acme Coffee Roasters"}]})

    name: Name


class CompanyRead(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"id": 1, "name": "Acme Coffee Roasters", "created_at": "2026-12-04T09:30:00Z"}
            ]
        }
    )

    id: int
    name: str
    created_at: datetime


class CompanyCreated(CompanyRead):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "name": "Acme Coffee Roasters",
                    "created_at": "2026-12-04T09:30:00Z",
                    "api_key": "sf_1_Xq3v9kQ2pLr8TzW0bN5mYc7dHs1aJf4uEo6gVi2Rk",
                }
            ]
        }
    )

    api_key: str = Field(description="The company's API key. Shown only this once.")
