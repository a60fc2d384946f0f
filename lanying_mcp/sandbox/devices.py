"""Sandbox devices."""

from __future__ import annotations
