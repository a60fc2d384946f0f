"""Sandbox group_moderation."""

from __future__ import annotations
