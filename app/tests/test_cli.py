"""`detection-api` commands: migrate, and keys create / list / revoke against a real database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from detection_api.cli import app
from detection_api.settings import Settings
from detection_api.store.api_keys import ApiKeyStore, KeyRejectedError
from detection_api.store.database import create_database_engine


def test_migrate_then_create_list_and_revoke_a_key(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DETECTION_API_DATABASE_URL", database_url)
    runner = CliRunner()

    not_migrated = runner.invoke(app, ["keys", "list"])
    assert not_migrated.exit_code != 0
    assert "detection-api migrate" in str(not_migrated.exception)

    migrated = runner.invoke(app, ["migrate"])
    assert migrated.exit_code == 0, migrated.output

    created = runner.invoke(app, ["keys", "create", "sensor-9", "--scope", "detections:write"])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[-1]
    settings = Settings()
    store = ApiKeyStore(
        create_database_engine(settings), settings.api_key_pepper.get_secret_value().encode()
    )
    record = store.authenticate(key, datetime.now(UTC))
    assert record.scopes == {"detections:write"}

    listed = runner.invoke(app, ["keys", "list"])
    assert "sensor-9" in listed.stdout
    assert key not in listed.stdout  # secrets are shown once, at creation

    assert runner.invoke(app, ["keys", "revoke", record.id]).exit_code == 0
    with pytest.raises(KeyRejectedError, match="revoked"):
        store.authenticate(key, datetime.now(UTC))
    assert runner.invoke(app, ["keys", "revoke", record.id]).exit_code == 1

    bad_scope = runner.invoke(app, ["keys", "create", "x", "--scope", "everything"])
    assert bad_scope.exit_code == 2
    assert "unknown scopes" in bad_scope.output
