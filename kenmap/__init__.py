"""kenmap: nested welfare service areas (圏域), hubs and coverage for Japanese municipalities."""

__version__ = "0.1.0"
