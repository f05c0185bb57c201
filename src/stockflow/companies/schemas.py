from datetime import datetime

from pydantic import Field

from stockflow.core.schemas import Name, Schema


class CompanyCreate(Schema):
    name: Name


class CompanyRead(Schema):
    id: int
    name: str
    created_at: datetime


class CompanyCreated(CompanyRead):
    api_key: str = Field(description="The company's API key. Shown only this once.")
