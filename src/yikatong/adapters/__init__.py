"""Implementations of the ports: in-memory, simulated, embedded store, bank files, disclosure files.

The core never imports this package; a host's composition root picks what it needs from here::

    from yikatong.adapters import SqliteStore, FileExchangeBank, builtin_layout, DisclosureFileSink, SystemClock
"""

from yikatong.adapters.bankfile import BankFilePeer, BankLayout, FileExchangeBank, builtin_layout, load_layout
from yikatong.adapters.clock import FixedClock, SystemClock
from yikatong.adapters.disclosure_files import DisclosureFileSink
from yikatong.adapters.faults import Faults
from yikatong.adapters.keys import SecretKeys, keys_from_env, keys_from_file
from yikatong.adapters.memory_disclosure import MemoryDisclosureSink
from yikatong.adapters.memory_reference import MemoryReference
from yikatong.adapters.memory_registry import MemoryRegistry
from yikatong.adapters.memory_store import MemoryStore
from yikatong.adapters.resident_lookup import StoreResidentLookup
from yikatong.adapters.simulated_bank import SimulatedBank
from yikatong.adapters.simulated_treasury import SimulatedTreasury
from yikatong.adapters.sqlite import SqliteRegistry, SqliteStore

__all__ = [
    "BankFilePeer",
    "BankLayout",
    "DisclosureFileSink",
    "Faults",
    "FileExchangeBank",
    "FixedClock",
    "MemoryDisclosureSink",
    "MemoryReference",
    "MemoryRegistry",
    "MemoryStore",
    "SecretKeys",
    "SimulatedBank",
    "SimulatedTreasury",
    "SqliteRegistry",
    "SqliteStore",
    "StoreResidentLookup",
    "SystemClock",
    "builtin_layout",
    "keys_from_env",
    "keys_from_file",
    "load_layout",
]
