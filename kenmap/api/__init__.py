"""The kenmap server: FastAPI for maps, figures, hub edits and imports."""
