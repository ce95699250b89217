"""Rendering results for people and programs: aligned text tables, CSV for Excel, JSON."""
