"""Who may use a served workspace: users with roles, their sign-in sessions, the audit trail.

Users and sessions are tables of the workspace itself (``kenmap_users``, ``kenmap_sessions``),
so the people allowed to edit a city's hubs travel with its data and a restarted server keeps
them signed in. Passwords are kept only as Argon2id hashes (argon2-cffi), session ids only as
their SHA-256: a copy of the file reveals neither.
"""

from kenmap.accounts.audit import audit_entries
from kenmap.accounts.sessions import Session, end_session, find_session, start_session
from kenmap.accounts.users import (
    User,
    add_user,
    check_password,
    find_user,
    has_users,
    list_users,
    remove_user,
    role_allows,
    set_password,
    user_name,
)

__all__ = ["Session", "User", "add_user", "audit_entries", "check_password", "end_session",
           "find_session", "find_user", "has_users", "list_users", "remove_user", "role_allows",
           "set_password", "start_session", "user_name"]
