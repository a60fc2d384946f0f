"""Sandbox tokens: `/tokens/*`."""

from __future__ import annotations
