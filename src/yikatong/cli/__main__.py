"""``python -m yikatong.cli``."""

from yikatong.cli import main

raise SystemExit(main())
