"""Hubs: the hubs table, importing hub lists, and editing single hubs with versions."""
