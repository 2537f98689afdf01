"""Implementations of the ports: in-memory, simulated, embedded store, bank files, disclosure files."""
