"""`python -m stabmon` runs the command line."""

import sys

from stabmon.cli import main

sys.exit(main())
