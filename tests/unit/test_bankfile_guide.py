"""The runnable example of docs/bank-adapter-guide.md stays true: its adapter passes the Bank contract kit."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "bank-adapter-guide.md"


def _example_code() -> str:
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index("## Way 2") :]
    return "\n\n".join(re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL))


def test_the_guide_example_adapter_passes_the_bank_contract_kit(tmp_path: Path) -> None:
    module = tmp_path / "test_my_bank.py"
    module.write_text(_example_code(), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", str(module)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "15 passed" in done.stdout
