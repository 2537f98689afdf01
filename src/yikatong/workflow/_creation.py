"""Creating batches: a department's new batch, and a correction batch for rows returned from an earlier one."""

from __future__ import annotations

import polars as pl

from yikatong.errors import PermissionDenied
from yikatong.period import period_of_kind
from yikatong.records import BatchRecord
from yikatong.workflow._core import ServiceCore
from yikatong.workflow._frames import stored_rows
from yikatong.workflow.corrections import check_correction_rows
from yikatong.workflow.roles import Actor, require_owner, require_role, require_town

__all__ = ["CreationSteps", "require_town_filing"]

_ENDED = ("cancelled", "rejected", "sent_back")


def require_town_filing(actor: Actor, item: str, filed_by: str, roster: pl.DataFrame) -> None:
    """Refuse a town user creating a batch of an item its department files, or with rows outside its town.

    Raises:
        PermissionDenied: naming the item, or the count of rows outside the town (never personal data).
    """
    if filed_by != "town":
        raise PermissionDenied(
            f"item {item} is filed by its department; {actor.user} may not create its batches"
            " / 该项目由主管部门申报，乡镇不得建批"
        )
    towns = roster["town"] if "town" in roster.columns else pl.Series("town", [None] * roster.height, pl.String)
    outside = int((towns.is_null() | (towns != actor.town)).sum())
    if outside:
        raise PermissionDenied(
            f"{outside} rows are not in {actor.user}'s town {actor.town}; a town files only for its own residents"
            " / 存在非本辖区的行"
        )


class CreationSteps(ServiceCore):
    """Steps that create batches (outside the machine: a batch is born in ``draft``)."""

    def create_batch(
        self,
        roster: pl.DataFrame,
        /,
        *,
        item: str,
        period: str,
        actor: Actor,
        declared_count: int | None = None,
        declared_total_fen: int | None = None,
        bank: str | None = None,
        batch_id: str | None = None,
        corrects: str | None = None,
    ) -> BatchRecord:
        """Create a draft batch from a roster (canonical schema) for one item and period; ``actor`` is the maker.

        The item's department creates its batches; for an item the catalogue marks town-filed (``filed_by =
        "town"``), a town user may too, for rows all of its own town (the batch then records that town).

        Raises:
            PermissionDenied: not a department or town user, the item belongs to another department, or a town user
                for an item its department files or for rows outside the town (or without one).
            UnknownItem: the item is not in the catalogue.
            PeriodKindError: the period is of another kind than the item's (a quarter for a monthly item).
            ValueError: bad period, empty roster, no ``id_number`` column or repeated ``row_id``.
        """
        require_role(actor, ("department", "town"), "create a batch")
        subsidy = self.catalog[item]
        if actor.role == "department" and actor.department != subsidy.department:
            raise PermissionDenied(
                f"{actor.user} may not create batches for {subsidy.department}'s items / 不得为其他部门的项目建批"
            )
        label = period_of_kind(period, subsidy.period, item=subsidy.code).label
        if roster.is_empty():
            raise ValueError("a batch needs at least one row / 批次不能为空")
        at = self._now()
        batch_id = batch_id or f"{item}-{label}-{len(self.store.batches()) + 1:05d}"
        rows = stored_rows(roster, batch_id=batch_id, at=at)
        if actor.role == "town":
            require_town_filing(actor, subsidy.code, subsidy.filed_by, rows)
        towns = rows["town"].drop_nulls().unique()
        one_town = str(towns[0]) if towns.len() == 1 and rows["town"].null_count() == 0 else None
        record = BatchRecord(
            batch_id=batch_id,
            item=item,
            period=label,
            department=subsidy.department,
            state="draft",
            prepared_by=actor.user,
            created_at=at,
            updated_at=at,
            town=one_town,
            bank=bank,
            corrects=corrects,
            declared_count=declared_count,
            declared_total_fen=declared_total_fen,
        )
        return self._commit(
            record,
            state="draft",
            at=at,
            actor=actor,
            action="create_correction" if corrects else "create",
            details={"rows": rows.height, "total_fen": int(rows["amount_fen"].sum()), "corrects": corrects or ""},
            new_rows=rows,
            create=True,
        )

    def create_correction(
        self, original_batch_id: str, roster: pl.DataFrame, /, *, actor: Actor, batch_id: str | None = None
    ) -> BatchRecord:
        """Create a correction batch for rows returned from ``original_batch_id``.

        The roster carries ``corrects_row_id`` (the returned row each row replaces) and the corrected data; same
        person, item and period, never a larger amount.

        Raises:
            PermissionDenied: not the original batch's department (nor, for a town-filed item, its town).
            IllegalTransition: a row not returned from the original, already reissued or being corrected, past its
                correction deadline (``expired``, or the deadline is before today's county date), another person, or
                a larger amount.
        """
        original = self.store.batch(original_batch_id)
        require_role(actor, ("department", "town"), "create a correction batch")
        self._refuse_purged(original_batch_id, "更正", "correct it")
        require_owner(actor, original, "correct")
        if actor.role == "town":
            require_town(actor, original, "correct")
            require_town_filing(actor, original.item, self._item(original).filed_by, roster)
        others = [b.batch_id for b in self.store.batches() if b.corrects == original_batch_id and b.state not in _ENDED]
        in_progress = pl.concat(
            [pl.DataFrame(schema={"row_id": pl.Int64})]
            + [
                self.store.rows(b)
                .filter(pl.col("status") != "withdrawn")
                .select(pl.col("corrects_row_id").alias("row_id"))
                for b in others
            ]
        )
        check_correction_rows(self.store.rows(original_batch_id), roster, in_progress=in_progress, as_of=self._today())
        return self.create_batch(
            roster,
            item=original.item,
            period=original.period,
            actor=actor,
            bank=original.bank,
            batch_id=batch_id,
            corrects=original_batch_id,
        )
