"""The simulated outside world: a paying bank and a treasury that misbehave on purpose, switch by switch.

Import from here; the implementations live in [`simulated_bank`][yikatong.adapters.simulated_bank],
[`simulated_treasury`][yikatong.adapters.simulated_treasury] and [`faults`][yikatong.adapters.faults].
"""

from __future__ import annotations

from yikatong.adapters.faults import Faults
from yikatong.adapters.simulated_bank import BANK_REASONS, SimulatedBank
from yikatong.adapters.simulated_treasury import REJECT_REASONS, SimulatedTreasury

__all__ = ["BANK_REASONS", "REJECT_REASONS", "Faults", "SimulatedBank", "SimulatedTreasury"]
