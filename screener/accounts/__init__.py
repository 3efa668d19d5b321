"""Operator accounts: who may log in at a station, in which role (Qt-free)."""
