"""``python -m yikatong``: the same command line as the ``yikatong`` script."""

from yikatong.cli import main

raise SystemExit(main())
