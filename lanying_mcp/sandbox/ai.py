"""Sandbox ai: `/ai/*`."""

from __future__ import annotations
