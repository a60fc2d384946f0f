"""Sandbox group_content."""

from __future__ import annotations
