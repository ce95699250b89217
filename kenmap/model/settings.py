"""Every default kenmap uses, typed and documented once.

Commands, the API and the library functions take their defaults from here, so a default is
changed in one place and is the same on every face.
"""

from __future__ import annotations

from typing import Final

#: Walking distance ÷ straight-line distance (streets do not run straight to a hub).
DETOUR: Final[float] = 1.3
#: Side of the square demand cells, in metres, aligned to the plane zone's origin.
CELL_M: Final[float] = 100.0
#: With a radius, an area lacks a hub when under this % of its 65+ is within reach.
MIN_REACH_PERCENT: Final[float] = 50.0
#: Share of a child area that may lie inside a second parent before it "does not nest".
NESTING_TOLERANCE: Final[float] = 0.05
#: Hubs of one type closer than this (metres) are the same place.
DUPLICATE_M: Final[float] = 5.0
#: Side of generated 隣近所 cells (``derive-neighbourhoods``), in metres.
NEIGHBOURHOOD_M: Final[float] = 200.0
#: Seconds the exact siting solver may run before reporting the gap it reached.
SITING_TIME_LIMIT_S: Final[float] = 30.0
#: Largest upload the server accepts, in MiB.
MAX_UPLOAD_MB: Final[int] = 200
#: An uploaded zip may expand to at most this many bytes.
UPLOAD_MAX_EXPANDED: Final[int] = 2 * 1024**3
#: Address the server binds to by default (loopback: a laptop's server is not on the network).
HOST: Final[str] = "127.0.0.1"
#: Port the server listens on by default.
PORT: Final[int] = 8000
