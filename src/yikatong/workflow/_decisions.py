"""Waivers of mandatory controls and extensions of correction deadlines, read back from the audit log.

Both are decided by two finance users (maker-checker) and exist only as far as the log says so
(``yikatong.workflow._controls``, ``yikatong.workflow._deadlines``); the summary and the supervision export
list them from here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Final

import polars as pl

from yikatong.records import AuditEntry, BatchRecord
from yikatong.workflow.audit import scrub

__all__ = ["EXTENSION_COLUMNS", "WAIVER_COLUMNS", "waivers_and_extensions"]

WAIVER_COLUMNS: Final[dict[str, pl.DataType]] = {
    "batch_id": pl.String(),
    "item": pl.String(),
    "control": pl.String(),
    "reason": pl.String(),
    "proposed_by": pl.String(),
    "approved_by": pl.String(),
    "at": pl.Datetime("us", "UTC"),
}
EXTENSION_COLUMNS: Final[dict[str, pl.DataType]] = {
    "batch_id": pl.String(),
    "item": pl.String(),
    "rows": pl.Int64(),
    "until": pl.String(),
    "reason": pl.String(),
    "requested_by": pl.String(),
    "decision": pl.String(),
    "decided_by": pl.String(),
    "at": pl.Datetime("us", "UTC"),
}


def waivers_and_extensions(
    log: Sequence[AuditEntry], chosen: Mapping[str, BatchRecord]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Waivers and extensions of the ``chosen`` batches, as the audit log records them.

    Returns:
        Waivers (``batch_id, item, control, reason, proposed_by, approved_by, at``: ``approved_by`` null while
        awaiting approval, ``at`` the approval's or else the proposal's time) and extensions (``batch_id, item, rows,
        until, reason, requested_by, decision, decided_by, at``: ``decision`` granted, refused or pending, ``at`` the
        decision's or else the request's time). Reasons are scrubbed of ID and account numbers.
    """
    waivers: dict[tuple[str, str], dict[str, object]] = {}
    extensions: list[dict[str, object]] = []
    for entry in log:
        record = chosen.get(entry.batch_id)
        if record is None:
            continue
        if entry.action in ("waive_control", "approve_waiver"):
            control = str(json.loads(entry.details or "{}").get("control", ""))
            key = (entry.batch_id, control)
            if entry.action == "waive_control":
                waivers[key] = {
                    "batch_id": entry.batch_id,
                    "item": record.item,
                    "control": control,
                    "reason": scrub(entry.reason),
                    "proposed_by": entry.actor,
                    "approved_by": None,
                    "at": entry.at,
                }
            elif key in waivers:
                waivers[key] |= {"approved_by": entry.actor, "at": entry.at}
        elif entry.action == "request_extension":
            details = json.loads(entry.details or "{}")
            extensions.append(
                {
                    "batch_id": entry.batch_id,
                    "item": record.item,
                    "rows": len(details.get("rows", [])),
                    "until": str(details.get("until", "")),
                    "reason": scrub(entry.reason),
                    "requested_by": entry.actor,
                    "decision": "pending",
                    "decided_by": None,
                    "at": entry.at,
                }
            )
        elif entry.action in ("grant_extension", "refuse_extension"):
            pending = [e for e in extensions if e["batch_id"] == entry.batch_id and e["decision"] == "pending"]
            if pending:
                decision = "granted" if entry.action == "grant_extension" else "refused"
                pending[-1] |= {"decision": decision, "decided_by": entry.actor, "at": entry.at}
    return (
        pl.DataFrame(list(waivers.values()), schema=WAIVER_COLUMNS, orient="row"),
        pl.DataFrame(extensions, schema=EXTENSION_COLUMNS, orient="row"),
    )
