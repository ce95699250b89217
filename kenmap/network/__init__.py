"""Walking networks in the workspace: importing roads and terrain, and reading them back."""
