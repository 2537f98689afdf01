"""The disbursement workflow: batch state machine, row statuses, roles, audit chain, reconciliation, service.

Start with [`build_service`][yikatong.build_service]; every port is a keyword argument. The pieces are usable on their
own: the machine ([`machine`][yikatong.workflow.machine]), the row-status table
([`statuses`][yikatong.workflow.statuses]), the audit chain ([`audit`][yikatong.workflow.audit]), reconciliation
([`reconcile`][yikatong.workflow.reconcile]), corrections and disclosure.
"""

from yikatong.workflow._purge import PurgeDecision, Purger
from yikatong.workflow.audit import AuditVerification, verify
from yikatong.workflow.machine import STATES, TRANSITIONS, TRIGGERS, allowed_roles
from yikatong.workflow.roles import ROLES, Actor, Role
from yikatong.workflow.service import DispatchOutcome, ResultsOutcome, Service, Waiver, build_service
from yikatong.workflow.statuses import FINAL_STATUSES, LEGAL_MOVES, ROW_STATUSES
from yikatong.workflow.store_check import StoreProblem, StoreVerification, verify_store

__all__ = [
    "FINAL_STATUSES",
    "LEGAL_MOVES",
    "ROLES",
    "ROW_STATUSES",
    "STATES",
    "TRANSITIONS",
    "TRIGGERS",
    "Actor",
    "AuditVerification",
    "DispatchOutcome",
    "PurgeDecision",
    "Purger",
    "ResultsOutcome",
    "Role",
    "Service",
    "StoreProblem",
    "StoreVerification",
    "Waiver",
    "allowed_roles",
    "build_service",
    "verify",
    "verify_store",
]
