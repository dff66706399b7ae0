"""Entry point: `python -m detection_ops.bench`."""

from __future__ import annotations

import sys

from detection_ops.bench import main

sys.exit(main())
