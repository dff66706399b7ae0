"""Every authentication path: API keys (missing, malformed, unknown, expired, revoked, wrong scope)
and JWT bearer tokens (valid, expired, wrong audience, wrong issuer, bad signature), from a JWKS
file and from a JWKS URL served on loopback."""

from __future__ import annotations

import functools
import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from detection_api.store.api_keys import ApiKeyStore
from detection_api.store.database import create_database_engine

ISSUER = "https://idp.example.test/"
AUDIENCE = "detection-api"


def code_of(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["code"])


def test_missing_credentials_are_401_with_a_challenge(client: TestClient) -> None:
    response = client.get("/v1/detections")
    assert code_of(response, 401) == "missing_credentials"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("key", "code"),
    [("not-a-key", "malformed_api_key"), ("dak_ffffffffffff_nope", "unknown_api_key")],
)
def test_bad_api_keys_are_401(client: TestClient, key: str, code: str) -> None:
    assert code_of(client.get("/v1/detections", headers={"X-API-Key": key}), 401) == code


def create_key(client: TestClient, auth: dict[str, str], scopes: list[str], **extra: Any) -> Any:
    response = client.post(
        "/v1/admin/api-keys", json={"name": "sensor-7", "scopes": scopes, **extra}, headers=auth
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_a_key_works_only_within_its_scopes(client: TestClient, auth: dict[str, str]) -> None:
    reader = create_key(client, auth, ["detections:read"])
    headers = {"X-API-Key": reader["key"]}
    assert client.get("/v1/detections", headers=headers).status_code == 200
    refused = client.post("/v1/detections", json={}, headers=headers)
    assert code_of(refused, 403) == "insufficient_scope"
    assert code_of(client.get("/v1/admin/api-keys", headers=headers), 403) == "insufficient_scope"


def test_a_revoked_key_stops_working_at_once(client: TestClient, auth: dict[str, str]) -> None:
    created = create_key(client, auth, ["detections:read"])
    headers = {"X-API-Key": created["key"]}
    assert client.get("/v1/detections", headers=headers).status_code == 200
    assert client.delete(f"/v1/admin/api-keys/{created['id']}", headers=auth).status_code == 204
    assert code_of(client.get("/v1/detections", headers=headers), 401) == "revoked_api_key"
    again = client.delete(f"/v1/admin/api-keys/{created['id']}", headers=auth)
    assert code_of(again, 404) == "not_found"
    listed = client.get("/v1/admin/api-keys", headers=auth).json()["items"]
    assert [k["revoked_at"] is not None for k in listed if k["id"] == created["id"]] == [True]
    assert all("key" not in k and "key_hash" not in k for k in listed)


def test_an_expired_key_is_refused(client: TestClient, auth: dict[str, str], migrated: Any) -> None:
    engine = create_database_engine(migrated)
    store = ApiKeyStore(engine, migrated.api_key_pepper.get_secret_value().encode())
    past = datetime.now(UTC) - timedelta(seconds=1)
    _record, key = store.create("old", frozenset({"detections:read"}), past, "test")
    assert code_of(client.get("/v1/detections", headers={"X-API-Key": key}), 401) == (
        "expired_api_key"
    )


def test_keys_cannot_be_created_already_expired(client: TestClient, auth: dict[str, str]) -> None:
    response = client.post(
        "/v1/admin/api-keys",
        json={"name": "x", "scopes": ["admin"], "expires_at": "2000-01-01T00:00:00Z"},
        headers=auth,
    )
    assert response.status_code == 422
    assert response.json()["field"] == "expires_at"


def test_an_api_key_also_works_as_a_bearer_token(client: TestClient, auth: dict[str, str]) -> None:
    key = auth["X-API-Key"]
    response = client.get("/v1/detections", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200


# --- JWT -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signing_keys() -> dict[str, Any]:
    return {
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ec": ec.generate_private_key(ec.SECP256R1()),
        "stranger": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    }


@pytest.fixture(scope="module")
def jwks(signing_keys: dict[str, Any]) -> dict[str, Any]:
    rsa_jwk = json.loads(RSAAlgorithm.to_jwk(signing_keys["rsa"].public_key()))
    ec_jwk = json.loads(ECAlgorithm.to_jwk(signing_keys["ec"].public_key()))
    return {"keys": [rsa_jwk | {"kid": "rsa-1", "use": "sig"}, ec_jwk | {"kid": "ec-1"}]}


def token(signing_keys: dict[str, Any], **changes: Any) -> str:
    key_name = changes.pop("key", "rsa")
    algorithm, kid = ("ES256", "ec-1") if key_name == "ec" else ("RS256", "rsa-1")
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "analyst@example.test",
        "exp": int(time.time()) + 300,
        "scope": "detections:read",
    }
    claims.update(changes)
    return jwt.encode(claims, signing_keys[key_name], algorithm=algorithm, headers={"kid": kid})


@pytest.fixture
def jwt_client(
    start_client: Callable[..., TestClient], jwks: dict[str, Any], tmp_path: Path
) -> TestClient:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks))
    return start_client(jwt_issuer=ISSUER, jwt_audience=AUDIENCE, jwt_jwks_file=path)


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@pytest.mark.parametrize("key", ["rsa", "ec"])
def test_a_valid_token_is_accepted(
    jwt_client: TestClient, signing_keys: dict[str, Any], key: str
) -> None:
    response = jwt_client.get("/v1/detections", headers=bearer(token(signing_keys, key=key)))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("changes", "code", "reason"),
    [
        ({"exp": int(time.time()) - 10}, "expired_token", "expired"),
        ({"aud": "someone-else"}, "invalid_token", "audience"),
        ({"iss": "https://evil.example/"}, "invalid_token", "issuer"),
        ({"key": "stranger"}, "invalid_token", "did not verify"),
    ],
)
def test_bad_tokens_are_401_with_the_reason(
    jwt_client: TestClient,
    signing_keys: dict[str, Any],
    changes: dict[str, Any],
    code: str,
    reason: str,
) -> None:
    response = jwt_client.get("/v1/detections", headers=bearer(token(signing_keys, **changes)))
    assert code_of(response, 401) == code
    assert reason in response.json()["detail"]


def test_a_token_without_the_scope_is_403(
    jwt_client: TestClient, signing_keys: dict[str, Any]
) -> None:
    response = jwt_client.post("/v1/detections", json={}, headers=bearer(token(signing_keys)))
    assert code_of(response, 403) == "insufficient_scope"


def test_garbage_bearer_tokens_and_schemes_are_401(jwt_client: TestClient) -> None:
    assert code_of(jwt_client.get("/v1/detections", headers=bearer("a.b.c")), 401) == (
        "invalid_token"
    )
    basic = {"Authorization": "Basic dXNlcjpwYXNz"}
    assert code_of(jwt_client.get("/v1/detections", headers=basic), 401) == "invalid_credentials"


def test_tokens_are_refused_when_no_issuer_is_configured(
    client: TestClient, signing_keys: dict[str, Any]
) -> None:
    response = client.get("/v1/detections", headers=bearer(token(signing_keys)))
    assert code_of(response, 401) == "invalid_token"


@pytest.fixture
def jwks_url(jwks: dict[str, Any], tmp_path: Path) -> Iterator[str]:
    (tmp_path / "jwks.json").write_text(json.dumps(jwks))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    server.shutdown()


def test_tokens_verify_against_a_jwks_url(
    start_client: Callable[..., TestClient], signing_keys: dict[str, Any], jwks_url: str
) -> None:
    client = start_client(jwt_issuer=ISSUER, jwt_audience=AUDIENCE, jwt_jwks_url=jwks_url)
    assert client.get("/v1/detections", headers=bearer(token(signing_keys))).status_code == 200
    stranger = bearer(token(signing_keys, key="stranger"))
    assert code_of(client.get("/v1/detections", headers=stranger), 401) == "invalid_token"


def test_no_endpoint_issues_tokens(client: TestClient) -> None:
    paths = client.get("/v1/openapi.json").json()["paths"]
    assert not [path for path in paths if "token" in path or "login" in path]
