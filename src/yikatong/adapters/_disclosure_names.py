"""File names of disclosure notices: readable, distinct for distinct towns and villages, and short enough.

Town and village names come from rosters: ``平凯街道(东)`` and ``平凯街道（东）`` are two places, ``a/b`` is not a
path, and a 100-character village name is longer than a file system allows in one name (255 bytes, three per
Chinese character). ``NoticeNames`` gives every file of one publication its own name:

* a part keeps letters, digits (any script), ``_``, ``-``, ``.``, ``·`` and half- and full-width brackets; any other
  character (a path separator, a control or bidirectional character, a space) becomes ``_``, and leading dots and
  trailing dots are removed;
* a name longer than ``NAME_BYTES`` in UTF-8 has its longest parts shortened and ends in ``~`` and 8 hex digits
  of the SHA-256 of the full parts, so two long names that start alike stay apart;
* two different places whose names still come out alike (``a/b`` and ``a:b``; ``Town`` and ``town`` on a file system
  that ignores case) are told apart the same way: the second gets the digest.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from typing import Final

from yikatong.errors import DisclosureError

__all__ = ["NAME_BYTES", "NoticeNames", "name_part"]

NAME_BYTES: Final = 200
"""Most UTF-8 bytes in a file name: under the 255 most file systems allow, with room for the temporary name the
atomic write uses (``.<name>.<random>.tmp``)."""

_UNSAFE: Final = re.compile(r"[^\w()（）·.\-]")
_DIGEST: Final = 8


def name_part(text: str) -> str:
    """``text`` usable as part of a file name, as readable as it can stay (see the module docstring)."""
    cleaned = _UNSAFE.sub("_", unicodedata.normalize("NFC", text)).lstrip(".").rstrip(".")
    return cleaned or "_"


def _digest(parts: Sequence[str]) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:_DIGEST]


def _fit(parts: Sequence[str], suffix: str, *, tagged: bool) -> str:
    cleaned = [name_part(p) for p in parts]
    tag = f"~{_digest(parts)}" if tagged else ""

    def size() -> int:
        return len(("_".join(cleaned) + tag + suffix).encode("utf-8"))

    if size() <= NAME_BYTES:
        return "_".join(cleaned) + tag + suffix
    tag = f"~{_digest(parts)}"
    while size() > NAME_BYTES:
        longest = max(range(len(cleaned)), key=lambda i: len(cleaned[i].encode("utf-8")))
        cleaned[longest] = cleaned[longest][:-1] or "_"
    return "_".join(cleaned) + tag + suffix


class NoticeNames:
    """Names the files of one publication, never giving two different places the same file."""

    def __init__(self) -> None:
        self._taken: dict[str, tuple[str, ...]] = {}

    def name(self, parts: Sequence[str], suffix: str) -> str:
        """The file name of ``parts`` (town, village, item, period, batch…) with ``suffix`` (``.csv``).

        The same parts and suffix always give the same name within one publication.

        Raises:
            DisclosureError: when even the digest cannot tell two places apart.
        """
        key = tuple(parts)
        for tagged in (False, True):
            candidate = _fit(parts, suffix, tagged=tagged)
            folded = unicodedata.normalize("NFC", candidate).casefold()
            owner = self._taken.setdefault(folded, key)
            if owner == key:
                return candidate
        raise DisclosureError(
            f"two different places would share the file name {candidate!r} (a digest collision); refusing to write "
            "either / 两个不同地名的公示文件名相同，拒绝写入"
        )
