"""The workspace: one GeoPackage holding every layer, the scheme and metadata. Storage only.

Each layer is its own table named by its key (QGIS opens them directly). Nothing outside this
module opens the file: callers ask a :class:`Workspace` for frames.

Reading: an opened workspace is a snapshot. Its tables are listed once, each frame is read
once per instance, and every table carries a version number (in the metadata) that each write
raises, so caches elsewhere can be keyed by exactly the tables a result depends on.

Writing, two ways, both under one exclusive lock beside the file so writers never interleave:

* :meth:`Workspace.transaction` for bulk rewrites (imports, derive): work on a copy that
  replaces the file atomically only if the block completes;
* :meth:`Workspace.edit` for small changes (one hub, metadata, a cache blob): one SQLite
  transaction inside the GeoPackage (it is a SQLite database), so the cost is that of the
  change, not of the file. A killed process leaves SQLite's journal, which rolls back on the
  next open.
"""

import sqlite3

from kenmap.workspace.edit import Edit
from kenmap.workspace.gpkg import AREA_COLUMNS, CACHE_TABLE, META_TABLE
from kenmap.workspace.snapshot import Workspace, open_workspace, store_all_kept

#: What a failed read or write of the workspace file raises (besides OSError and the
#: KenmapErrors storage gives): the faces catch it without knowing the file is SQLite.
StorageError = sqlite3.Error

__all__ = ["AREA_COLUMNS", "CACHE_TABLE", "META_TABLE", "Edit", "StorageError", "Workspace",
           "open_workspace",
           "store_all_kept"]
