"""Many files written at once: each is the whole new file, nothing temporary is left, and a failure leaves no litter."""

from __future__ import annotations

from pathlib import Path

import pytest

from yikatong.adapters.bankfile._files import write_all_atomic


def test_every_file_is_written_whole_and_replaces_the_old_one(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "1.html").write_bytes(b"old")
    files = [(tmp_path / "a" / f"{i}.html", f"page {i}".encode() * 1000) for i in range(40)]
    files.append((tmp_path / "b" / "deeper" / "x.csv", b"x"))
    write_all_atomic(files)
    for path, data in files:
        assert path.read_bytes() == data
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_a_file_that_cannot_be_written_leaves_no_temporary_file_and_no_new_file(tmp_path: Path) -> None:
    (tmp_path / "taken").write_bytes(b"a file where a folder should be")
    files = [(tmp_path / f"{i}.html", b"page") for i in range(10)]
    files.append((tmp_path / "taken" / "x.html", b"x"))
    with pytest.raises(FileExistsError):
        write_all_atomic(files)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
