"""Production refuses to start with development defaults; lists parse from the environment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from detection_api.settings import Settings

PRODUCTION_READY = {
    "environment": "production",
    "database_url": "postgresql://detection_api@db.internal:5432/detections",
    "dev_api_key": None,
    "api_key_pepper": "a-long-random-secret-from-the-secret-store",
    "docs_enabled": False,
    "rate_limit_storage": "redis://redis.internal:6379/0",
}


def test_production_with_real_settings_starts() -> None:
    assert Settings(**PRODUCTION_READY).environment == "production"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"database_url": "sqlite:///var/detection-api.db"}, "DATABASE_URL"),
        ({"dev_api_key": "dak_dev_x"}, "DEV_API_KEY"),
        ({"api_key_pepper": "dev-only-not-a-secret"}, "PEPPER"),
        ({"docs_enabled": True}, "DOCS_ENABLED"),
        ({"cors_origins": ["*"]}, "CORS_ORIGINS"),
        ({"rate_limit_storage": "memory://"}, "RATE_LIMIT_STORAGE"),
    ],
)
def test_production_refuses_each_development_default(
    override: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**{**PRODUCTION_READY, **override})


def test_the_well_known_development_key_exists_only_in_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().development_key is not None
    assert Settings(environment="staging").development_key is None
    assert Settings(**PRODUCTION_READY).development_key is None
    monkeypatch.setenv("DETECTION_API_DEV_API_KEY", "")  # an empty value from a chart means unset
    assert Settings().dev_api_key is None


def test_list_settings_come_from_comma_separated_or_json_env(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DETECTION_API_OBJECT_CLASSES", "person, car")
    monkeypatch.setenv("DETECTION_API_TAK_DESTINATIONS", '["tcp://127.0.0.1:8087"]')
    settings = Settings()
    assert settings.object_classes == ["person", "car"]
    assert settings.tak_destinations == ["tcp://127.0.0.1:8087"]
