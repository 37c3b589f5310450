import sys

from egur_core.cli import main

sys.exit(main())
