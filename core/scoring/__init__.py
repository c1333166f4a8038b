"""Scorers: turn finished day windows into verdicts. Interface in ``base``."""

from core.scoring.base import DayWindow, Scorer, Severity, Verdict, severity_for

__all__ = ["DayWindow", "Scorer", "Severity", "Verdict", "severity_for"]
