"""``python -m crawler`` is the ``palimpsest`` command."""

import sys

from crawler.cli import main

sys.exit(main())
