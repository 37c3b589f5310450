"""``python -m egur_core.cli``: the same as the ``egur`` console script."""

import sys

from egur_core.cli import main

sys.exit(main())
