"""Bearer-token authentication and company scoping.

Two kinds of credentials: the platform admin token (from settings, or generated at start)
and per-company API keys of the form `sf_<key id>_<secret>`, of which only a SHA-256 of
the secret is stored. Both are compared in constant time.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select

from stockflow.core.database import SessionDep
from stockflow.core.errors import Forbidden, NotFound, Unauthorized
from stockflow.models import ApiKey, Company

MAX_ID = 2**63 - 1
KEY_PREFIX = "sf_"

_bearer = HTTPBearer(auto_error=False, description="The admin token or a company API key.")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the admin (company_id None) or one company's key."""

    company_id: int | None

    @property
    def is_admin(self) -> bool:
        return self.company_id is None


@dataclass(frozen=True)
class CompanyScope:
    """The company a nested route acts on, already checked against the caller."""

    company_id: int
    principal: Principal


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_api_key(key_id: int) -> tuple[str, str]:
    """A fresh key for row `key_id`: (the key shown once, the hash to store)."""
    secret = secrets.token_urlsafe(32)
    return f"{KEY_PREFIX}{key_id}_{secret}", hash_secret(secret)


def _parse_key(token: str) -> tuple[int, str] | None:
    if not token.startswith(KEY_PREFIX):
        return None
    key_id, sep, secret = token.removeprefix(KEY_PREFIX).partition("_")
    if not sep or not secret or not key_id.isdigit() or len(key_id) > 18:
        return None
    return int(key_id), secret


async def get_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Send 'Authorization: Bearer <token>'.")
    token = credentials.credentials
    admin_token: str = request.app.state.admin_token
    if hmac.compare_digest(token.encode(), admin_token.encode()):
        return Principal(company_id=None)
    parsed = _parse_key(token)
    if parsed is not None:
        key_id, secret = parsed
        row = (
            await session.execute(
                select(ApiKey.company_id, ApiKey.secret_hash).where(
                    ApiKey.id == key_id, ApiKey.revoked_at.is_(None)
                )
            )
        ).one_or_none()
        if row is not None and hmac.compare_digest(hash_secret(secret), row.secret_hash):
            return Principal(company_id=row.company_id)
    raise Unauthorized("The token is not valid.")


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def require_admin(principal: PrincipalDep) -> Principal:
    if not principal.is_admin:
        raise Forbidden("Only the platform admin may do this.")
    return principal


AdminDep = Annotated[Principal, Depends(require_admin)]

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


async def ensure_company_access(session: SessionDep, principal: Principal, company_id: int) -> None:
    """404 unless the caller may act on `company_id` and it exists (never reveal which)."""
    if principal.is_admin:
        exists = await session.scalar(select(Company.id).where(Company.id == company_id))
        if exists is None:
            raise NotFound(f"Company {company_id} not found.")
    elif principal.company_id != company_id:
        raise NotFound(f"Company {company_id} not found.")


async def get_company_scope(
    company_id: IdPath, principal: PrincipalDep, session: SessionDep
) -> CompanyScope:
    await ensure_company_access(session, principal, company_id)
    return CompanyScope(company_id=company_id, principal=principal)


CompanyScopeDep = Annotated[CompanyScope, Depends(get_company_scope)]
