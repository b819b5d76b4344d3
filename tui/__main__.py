"""``python -m tui``: the same as the ``r2k`` command."""

import sys

from tui.cli import main

sys.exit(main())
