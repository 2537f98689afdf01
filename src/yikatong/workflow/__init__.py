"""The disbursement workflow: batch state machine, row statuses, roles, audit chain, reconciliation."""
