"""Dask is optional: the library, its adapters and its command line import without it."""

from __future__ import annotations

import subprocess
import sys


def test_the_library_and_the_command_line_import_with_dask_absent() -> None:
    script = (
        "import sys\n"
        "sys.modules.update(dask=None, distributed=None)\n"  # an import of either now fails
        "import yikatong, yikatong.adapters, yikatong.cli, yikatong.rules.routing\n"
        "from yikatong.cli import main\n"
        "assert 'yikatong.adapters.dask' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_asking_for_a_cluster_without_dask_says_which_extra_to_install() -> None:
    script = (
        "import sys\n"
        "sys.modules.update(dask=None, distributed=None)\n"
        "from yikatong.cli import main\n"
        "sys.exit(main(['validate', 'examples/roster.csv', '--item', 'GLJT',"
        " '--period', '2026-11', '--dask', 'local:2']))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 2, done.stderr
    assert "pip install 'yikatong[dask]'" in done.stderr
