"""Bearer-token authentication and company scoping.

Two kinds of credentials: the platform admin token (from settings, or generated at start)
and per-company API keys of the form `sf_<key id>_<secret>`, of which only a SHA-256 of
the secret is stored. Both are compared in constant time.
"""

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, FastAPI, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.core.database import request_session
from stockflow.core.errors import Forbidden, NotFound, Unauthorized
from stockflow.core.key_usage import KEY_USAGE
from stockflow.core.tenancy import scope_to_company
from stockflow.models import Company

MAX_ID = 2**63 - 1
KEY_PREFIX = "sf_"

_bearer = HTTPBearer(auto_error=False, description="The admin token or a company API key.")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the admin (company_id None) or one company's key (key_id)."""

    company_id: int | None
    key_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.company_id is None


@dataclass(frozen=True)
class CompanyScope:
    """The company a nested route acts on, already checked against the caller."""

    company_id: int
    principal: Principal


@dataclass
class KeyCache:
    """API key id -> (company id, secret hash) for `ttl` seconds, at most `size` keys.

    Saves the key lookup on nearly every request. A revoked key must stop working on
    every worker within a second, so the cache is trusted only while this worker's
    revocation listener (api_keys/revocation.py) is connected: it drops a key the moment
    PostgreSQL announces its revocation. With the listener down, every request reads the
    database (`trusted` False)."""

    ttl: float = 60.0
    size: int = 10_000
    trusted: bool = False
    _entries: dict[int, tuple[float, int, str]] = field(default_factory=dict)

    def get(self, key_id: int) -> tuple[int, str] | None:
        if not self.trusted:
            return None
        entry = self._entries.get(key_id)
        if entry is None:
            return None
        expires, company_id, secret_hash = entry
        if expires < time.monotonic():
            del self._entries[key_id]
            return None
        return company_id, secret_hash

    def put(self, key_id: int, company_id: int, secret_hash: str) -> None:
        if not self.trusted:
            return
        if len(self._entries) >= self.size:
            now = time.monotonic()
            self._entries = {k: v for k, v in self._entries.items() if v[0] >= now}
            while len(self._entries) >= self.size:
                del self._entries[next(iter(self._entries))]  # the oldest
        self._entries[key_id] = (time.monotonic() + self.ttl, company_id, secret_hash)

    def drop(self, key_id: int) -> None:
        self._entries.pop(key_id, None)

    def set_trusted(self, trusted: bool) -> None:
        """The listener (re)connected or went down; either way, notifications may have
        been missed, so forget everything."""
        self._entries.clear()
        self.trusted = trusted


def key_cache(app: FastAPI) -> KeyCache:
    cache: KeyCache | None = getattr(app.state, "api_key_cache", None)
    if cache is None:
        cache = app.state.api_key_cache = KeyCache()
    return cache


def _known_companies(request: Request) -> set[int]:
    """Company ids this process has seen exist. Companies are never deleted (and ids
    never reused), so a company once seen exists for good; one set per app."""
    known: set[int] | None = getattr(request.app.state, "known_companies", None)
    if known is None:
        known = request.app.state.known_companies = set()
    return known


def reset_auth_caches(app: FastAPI) -> None:
    """Forget cached keys and companies: for tests that empty the tables and restart ids."""
    key_cache(app).set_trusted(key_cache(app).trusted)
    app.state.known_companies = set()


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


_KEY_LOOKUP = text("SELECT company_id, secret_hash FROM stockflow_api_key(:key_id)")


async def get_principal(
    request: Request,
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
        cache = key_cache(request.app)
        found = cache.get(key_id)
        # A wrong secret for a cached key is checked against the database again, so the
        # cache can only ever save queries, never change an answer for a known row.
        if found is None or not hmac.compare_digest(hash_secret(secret), found[1]):
            # No tenant is known yet: a function of the RLS migration reads this one
            # key in the admin scope, which ends when it returns.
            session = request_session(request)
            row = (await session.execute(_KEY_LOOKUP, {"key_id": key_id})).one_or_none()
            if row is not None:
                found = (row.company_id, row.secret_hash)
                cache.put(key_id, *found)
        if found is not None and hmac.compare_digest(hash_secret(secret), found[1]):
            KEY_USAGE.touch(key_id)
            return Principal(company_id=found[0], key_id=key_id)
    raise Unauthorized("The token is not valid.")


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def require_admin(principal: PrincipalDep) -> Principal:
    if not principal.is_admin:
        raise Forbidden("Only the platform admin may do this.")
    return principal


AdminDep = Annotated[Principal, Depends(require_admin)]

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


async def ensure_company_access(
    session: AsyncSession, principal: Principal, company_id: int, known: set[int] | None = None
) -> None:
    """404 unless the caller may act on `company_id` and it exists (never reveal which);
    then binds the transaction to `company_id` for row-level security.
    `known`: company ids already seen to exist (skips the query), updated here."""
    if not principal.is_admin and principal.company_id != company_id:
        raise NotFound(f"Company {company_id} not found.")
    await scope_to_company(session, company_id)
    if principal.is_admin:
        if known is not None and company_id in known:
            return
        exists = await session.scalar(select(Company.id).where(Company.id == company_id))
        if exists is None:
            raise NotFound(f"Company {company_id} not found.")
        if known is not None:
            known.add(company_id)


async def get_company_scope(
    request: Request, company_id: IdPath, principal: PrincipalDep
) -> CompanyScope:
    await ensure_company_access(
        request_session(request), principal, company_id, _known_companies(request)
    )
    return CompanyScope(company_id=company_id, principal=principal)


CompanyScopeDep = Annotated[CompanyScope, Depends(get_company_scope)]
