"""The words of migcheck's settings and findings, defined once: severities, categories
and fail-on levels. Every list of them (config validation, rule selection, CLI choices)
is derived from these Literals. Imports only ``typing``, so the CLI's options can use it
at start-up."""

from __future__ import annotations

from typing import Literal, get_args

Severity = Literal["error", "warning", "info"]
Category = Literal["compatibility", "locking", "data", "style", "meta"]
FailOn = Literal["error", "warning", "never"]

SEVERITIES: tuple[Severity, ...] = get_args(Severity)
CATEGORIES: tuple[Category, ...] = get_args(Category)
FAIL_ON: tuple[FailOn, ...] = get_args(FailOn)
