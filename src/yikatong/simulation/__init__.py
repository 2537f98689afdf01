"""Randomized life cycles through the whole workflow, checking every invariant after every step.

[`simulate`][yikatong.simulation.simulate] builds small seeded counties (people, one-card accounts, an in-memory store,
a simulated bank and treasury, optionally with every fault switched on), runs batch life cycles through them with random
rosters with defects, random decisions (review confirmations and rejections, cancellations, send-backs, funding routes,
corrections) and actors who must be refused, and checks the invariants of ``docs/architecture.md`` after each step:
against the store, against what the bank and the treasury really did, and against every text produced (refusal messages,
log lines, SMS, validation evidence, public notices). The same seed gives the same report.

Like the command line, this package is a composition helper: it wires adapters to the core and is not imported by it.
"""

from yikatong.simulation.run import SimulationReport, simulate

__all__ = ["SimulationReport", "simulate"]
