"""Entry point: `python -m detection_ops.demo`."""

from __future__ import annotations

import sys

from detection_ops.demo import main

sys.exit(main())
