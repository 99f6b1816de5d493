"""Errors a user can cause and fix: each names the field and the rule it broke."""

from __future__ import annotations


class VanbanError(Exception):
    """Base of every error vanban reports to a user (CLI prints it without a traceback)."""


class RuleViolation(VanbanError):
    """Input broke a rule. ``field`` says where (``recipients[2]``), ``rule`` which rule (``date.exists``)."""

    def __init__(self, field: str, rule: str, message: str):
        self.field = field
        self.rule = rule
        self.message = message
        super().__init__(f"{field}: {message} [{rule}]")


class NotFound(RuleViolation):
    """A code that names nothing in the directory or the document store."""
