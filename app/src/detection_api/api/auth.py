"""Who is calling, and may they? API keys for machine senders, JWT bearer tokens for people.

No endpoint issues tokens: JWTs are verified against the configured issuer, audience and JWKS.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from jwt import PyJWKClient, PyJWKSet

from detection_api.api.problems import ProblemError
from detection_api.settings import Settings
from detection_api.store.api_keys import KEY_PREFIX, ApiKey, ApiKeyStore, KeyRejectedError

KEY_CACHE_SECONDS = 5.0  # a revoked key stops working on other replicas within this time
TOUCH_EVERY_SECONDS = 60.0  # last_used_at is a hint, not a write on every request


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. `name` is bounded and safe for logs and rate-limit keys."""

    name: str
    scopes: frozenset[str]


def unauthorized(code: str, detail: str) -> ProblemError:
    return ProblemError(
        401, code, detail, headers={"WWW-Authenticate": 'Bearer realm="detection-api"'}
    )


class Authenticator:
    def __init__(self, settings: Settings, keys: ApiKeyStore) -> None:
        self._keys = keys
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._algorithms = settings.jwt_algorithms
        self._jwks = _jwks_source(settings)
        self._cache: dict[str, tuple[ApiKey, float]] = {}
        self._touched: dict[str, float] = {}
        self._lock = threading.Lock()

    def authenticate(self, authorization: str | None, api_key: str | None) -> Principal:
        if api_key:
            return self._from_api_key(api_key)
        if authorization:
            scheme, _, credentials = authorization.partition(" ")
            if scheme.lower() != "bearer" or not credentials:
                raise unauthorized("invalid_credentials", "use 'Authorization: Bearer <token>'")
            credentials = credentials.strip()
            if credentials.startswith(f"{KEY_PREFIX}_"):
                return self._from_api_key(credentials)
            return self._from_jwt(credentials)
        raise unauthorized("missing_credentials", "send an X-API-Key header or a bearer token")

    def cached(self, authorization: str | None, api_key: str | None) -> Principal | None:
        """The principal of an API key validated less than KEY_CACHE_SECONDS ago, without I/O;
        None when the credentials need a full `authenticate`."""
        key = api_key
        if key is None and authorization and authorization[:7].lower() == "bearer ":
            key = authorization[7:].strip()
        if not key or not key.startswith(f"{KEY_PREFIX}_"):
            return None
        with self._lock:
            cached = self._cache.get(hashlib.sha256(key.encode()).hexdigest())
        now = time.monotonic()
        if cached is None or now - cached[1] > KEY_CACHE_SECONDS:
            return None
        record = cached[0]
        if record.is_expired(datetime.now(UTC)) or self._touch_due(record, now):
            return None
        return Principal(name=f"key:{record.prefix}", scopes=record.scopes)

    def forget_keys(self) -> None:
        """Drop cached key lookups (after a revocation in this process)."""
        with self._lock:
            self._cache.clear()

    def _from_api_key(self, key: str) -> Principal:
        now = time.monotonic()
        digest = hashlib.sha256(key.encode()).hexdigest()
        with self._lock:
            cached = self._cache.get(digest)
        if cached is None or now - cached[1] > KEY_CACHE_SECONDS:
            try:
                record = self._keys.authenticate(key, datetime.now(UTC))
            except KeyRejectedError as rejected:
                raise unauthorized(
                    f"{rejected.reason}_api_key", _KEY_REASONS[rejected.reason]
                ) from None
            with self._lock:
                self._cache[digest] = (record, now)
        else:
            record = cached[0]
            if record.is_expired(datetime.now(UTC)):
                raise unauthorized("expired_api_key", _KEY_REASONS["expired"])
        self._touch(record, now)
        return Principal(name=f"key:{record.prefix}", scopes=record.scopes)

    def _touch_due(self, record: ApiKey, now: float) -> bool:
        with self._lock:
            last = self._touched.get(record.id, -TOUCH_EVERY_SECONDS)
        return now - last >= TOUCH_EVERY_SECONDS

    def _touch(self, record: ApiKey, now: float) -> None:
        with self._lock:
            due = now - self._touched.get(record.id, -TOUCH_EVERY_SECONDS) >= TOUCH_EVERY_SECONDS
            if due:
                self._touched[record.id] = now
        if due:
            self._keys.touch(record.id, datetime.now(UTC))

    def _from_jwt(self, token: str) -> Principal:
        if self._jwks is None or not self._issuer or not self._audience:
            raise unauthorized("invalid_token", "bearer tokens are not configured on this service")
        try:
            key = self._jwks(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise unauthorized("expired_token", "the token has expired") from None
        except jwt.InvalidAudienceError:
            raise unauthorized("invalid_token", "the token is for another audience") from None
        except jwt.InvalidIssuerError:
            raise unauthorized("invalid_token", "the token is from another issuer") from None
        except (jwt.PyJWTError, KeyError, ValueError) as error:
            reason = type(error).__name__
            raise unauthorized("invalid_token", f"the token did not verify ({reason})") from None
        subject = str(claims["sub"])[:100]
        return Principal(name=f"jwt:{subject}", scopes=_token_scopes(claims))


_KEY_REASONS = {
    "malformed": "API keys look like dak_<prefix>_<secret>",
    "unknown": "the API key is not known",
    "revoked": "the API key has been revoked",
    "expired": "the API key has expired",
}


def _token_scopes(claims: dict[str, Any]) -> frozenset[str]:
    scope = claims.get("scope", claims.get("scp", ""))
    values = scope.split() if isinstance(scope, str) else [str(item) for item in scope]
    return frozenset(values)


def _jwks_source(settings: Settings) -> Any:
    """A function token -> verification key, from a JWKS URL (cached) or a JWKS file."""
    if settings.jwt_jwks_url:
        client = PyJWKClient(settings.jwt_jwks_url, cache_keys=True, lifespan=300)
        return lambda token: client.get_signing_key_from_jwt(token).key
    if settings.jwt_jwks_file:
        key_set = PyJWKSet.from_dict(json.loads(Path(settings.jwt_jwks_file).read_text()))

        def from_file(token: str) -> Any:
            kid = jwt.get_unverified_header(token).get("kid")
            for key in key_set.keys:
                if kid is None or key.key_id == kid:
                    return key.key
            raise jwt.InvalidKeyError("no key in the JWKS matches the token's kid")

        return from_file
    return None
