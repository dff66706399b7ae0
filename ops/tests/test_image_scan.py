"""The offline trivy scans of `inv scan`, run for real on small hand-made image archives.

A `docker save` archive is a tar of manifest.json, the image config and layer tars: enough for
`trivy image --input`, in seconds instead of the minutes a full service image takes.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from detection_ops.image.scan import plan, run_scan

REPO_ROOT = Path(__file__).resolve().parents[2]
# Standard test JWT of jwt.io's documentation (HS256, key "your-256-bit-secret").
SAMPLE_JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PYJWT_METADATA = "opt/venv/lib/python3.13/site-packages/pyjwt-2.15.1.dist-info/METADATA"


# The history lines the legacy builder writes for the service image's Dockerfile.
SERVICE_HISTORY = (
    "/bin/sh -c #(nop) COPY dir:7eb7ef4 in /opt/venv ",
    "/bin/sh -c #(nop)  USER 10001:10001",
    '/bin/sh -c #(nop)  HEALTHCHECK &{["NONE"] "0s" "0s" "0s" \'\\x00\'}',
)


def image_archive(path: Path, files: dict[str, str], history: tuple[str, ...]) -> Path:
    """A one-layer image in `docker save` format holding `files`."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    layer_bytes = layer.getvalue()
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"User": "10001:10001", "Entrypoint": ["detection-api"], "Cmd": ["serve"]},
        "rootfs": {
            "type": "layers",
            "diff_ids": [f"sha256:{hashlib.sha256(layer_bytes).hexdigest()}"],
        },
        "history": [{"created_by": line} for line in history],
    }
    config_bytes = json.dumps(config).encode()
    manifest = [{"Config": "config.json", "RepoTags": ["scan-test:1"], "Layers": ["layer.tar"]}]
    with tarfile.open(path, mode="w") as archive:
        for name, data in (
            ("manifest.json", json.dumps(manifest).encode()),
            ("config.json", config_bytes),
            ("layer.tar", layer_bytes),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def scan_image(
    require_tool: Callable[[str], str], tmp_path: Path
) -> Callable[..., list[tuple[str, str, str]]]:
    trivy = require_tool("trivy")
    (offline,) = plan(with_vulnerabilities=False, root=REPO_ROOT)

    def scan(
        files: dict[str, str], history: tuple[str, ...] = SERVICE_HISTORY
    ) -> list[tuple[str, str, str]]:
        tar = image_archive(tmp_path / "image.tar", files, history)
        found = run_scan(offline, trivy, tar, tmp_path / "reports", tmp_path / "cache")
        return [(finding.kind, finding.id, finding.target.lstrip("/")) for finding in found]

    return scan


def test_clean_image_passes(scan_image: Callable[..., list[tuple[str, str, str]]]) -> None:
    assert scan_image({"opt/venv/lib/app.py": "print('hello')\n"}) == []


def test_secret_in_a_layer_is_found(scan_image: Callable[..., list[tuple[str, str, str]]]) -> None:
    found = scan_image({"opt/venv/lib/settings.py": f"TOKEN = '{SAMPLE_JWT}'\n"})
    assert found == [("secret", "jwt-token", "opt/venv/lib/settings.py")]


def test_pyjwt_readme_token_is_allowed_only_in_its_metadata(
    scan_image: Callable[..., list[tuple[str, str, str]]],
) -> None:
    readme = f"Usage\n\n    >>> jwt.encode(...)\n    '{SAMPLE_JWT}'\n"
    assert scan_image({PYJWT_METADATA: readme}) == []
    elsewhere = "opt/venv/lib/python3.13/site-packages/other-1.0.dist-info/METADATA"
    assert scan_image({elsewhere: readme}) == [("secret", "jwt-token", elsewhere)]


def test_misconfiguration_in_the_build_history_is_found(
    scan_image: Callable[..., list[tuple[str, str, str]]],
) -> None:
    # Several sources copied into a folder without the trailing slash; no HEALTHCHECK line.
    # (trivy 0.59 stops reading the history at the legacy builder's `HEALTHCHECK &{["NONE"] ...}`
    # line, so on the service image the Dockerfile checks come from `trivy config`, checkov and
    # hadolint on app/Dockerfile in charts/tests.)
    history = ("COPY a.py b.py /opt/app", "USER 10001:10001")
    found = scan_image({"opt/app/a.py": "print('hello')\n"}, history)
    assert sorted(rule for kind, rule, _ in found if kind == "misconfig") == ["DS011", "DS026"]
