"""Every default kenmap uses, typed and documented once.

Commands, the API and the library functions take their defaults from here, so a default is
changed in one place and is the same on every face.
"""

from __future__ import annotations

from typing import Final

#: Walking distance ÷ straight-line distance (streets do not run straight to a hub).
DETOUR: Final[float] = 1.3
#: Walking speed of older residents on the flat (m/s) for reach in minutes along the network
#: (Tobler's hiking function slows it uphill).
WALK_SPEED_MS: Final[float] = 1.0
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
#: Seconds an import-wizard upload is kept after its last use (then removed).
WIZARD_UPLOAD_TTL_S: Final[int] = 3600
#: Import-wizard uploads kept at once per server (a new one removes the oldest).
WIZARD_MAX_UPLOADS: Final[int] = 5
#: Address the server binds to by default (loopback: a laptop's server is not on the network).
HOST: Final[str] = "127.0.0.1"
#: Port the server listens on by default.
PORT: Final[int] = 8000
#: Host names the server answers to besides the address it binds (``--allowed-host``).
ALLOWED_HOSTS: Final[tuple[str, ...]] = ()
#: Memory ceiling of one heavy job (a siting run in its own process), in MiB.
JOB_MEMORY_MB: Final[int] = 3072
#: Wall-clock limit of one heavy job, in seconds (the solver's own limit is inside it).
JOB_TIME_LIMIT_S: Final[float] = 120.0
#: Bounds on a siting question asked through the server.
SERVER_SITING_MAX_K: Final[int] = 50
SERVER_SITING_MAX_CANDIDATES: Final[int] = 5_000
SERVER_SITING_MAX_PAIRS: Final[int] = 20_000_000
SERVER_SITING_MAX_TIME_LIMIT_S: Final[float] = 60.0
#: At most this many figures (gaps, coverage, pages) are computed at once by an app computing
#: in threads; ``kenmap serve`` computes them one at a time in a process of their own.
#: Identical requests wait for the one computation.
SERVER_COMPUTE_SLOTS: Final[int] = 2
#: Downloads drawn with matplotlib (handout, sheets, report) and map pages made at once:
#: pyplot keeps global state, so one at a time; others wait without holding a thread.
SERVER_RENDER_SLOTS: Final[int] = 1
#: Area sheets (one A4 page each) one download may hold.
SERVER_MAX_SHEETS: Final[int] = 100
#: A read that would wait longer than this for a recomputation (after an edit, under load)
#: gets the previous answer marked X-Kenmap-Stale; Cache-Control: no-cache always waits.
SERVER_STALE_AFTER_S: Final[float] = 0.15
#: Under load, one answer is recomputed at most this often (seconds); in between, readers get
#: the previous answer marked X-Kenmap-Stale (an idle server always answers fresh).
SERVER_RECOMPUTE_MIN_S: Final[float] = 1.0
#: At most this many writes run at once; others wait without holding a worker thread.
SERVER_WRITE_SLOTS: Final[int] = 2
#: Rows one uploaded hub list may hold.
SERVER_MAX_HUB_ROWS: Final[int] = 50_000
#: Rows one import may hold (areas, hubs, population rows); larger files are refused.
MAX_IMPORT_ROWS: Final[int] = 1_000_000
#: Seconds an idle keep-alive connection to the server stays open.
SERVER_KEEP_ALIVE_S: Final[int] = 75
#: Seconds the server takes to stop after SIGTERM before dropping open requests.
SHUTDOWN_GRACE_S: Final[int] = 3
#: Roles of workbench users, from least to most allowed: viewers read, editors edit hubs,
#: import and run siting, admins also manage the catalogue and the users.
ROLES: Final[tuple[str, ...]] = ("viewer", "editor", "admin")
#: Shortest password a user may be given.
MIN_PASSWORD_LENGTH: Final[int] = 8
#: A sign-in session ends after this many hours without a request (kept in the workspace,
#: so a restarted server keeps people signed in).
SESSION_IDLE_H: Final[float] = 12.0
#: A session's expiry is pushed back at most this often (seconds): not a write per request.
SESSION_TOUCH_S: Final[int] = 600
#: Failed sign-ins allowed per name and per client address within the window below; the next
#: attempt is refused (429) until the oldest failure leaves the window.
SIGN_IN_MAX_FAILURES: Final[int] = 5
SIGN_IN_WINDOW_S: Final[int] = 300
#: Password checks run at once (each Argon2 check takes 64 MiB and tens of milliseconds).
SIGN_IN_SLOTS: Final[int] = 2
