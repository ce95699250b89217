"""Spatial primitives: reading files, CRS handling, repair, overlaps. Knows nothing of welfare."""
