"""The ``kenmap`` subcommands, one module per concern; importing registers them."""

from kenmap.commands import areas, coverage, people, planning, service

__all__ = ["areas", "coverage", "people", "planning", "service"]
