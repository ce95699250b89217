"""The ``kenmap`` command line (assembled in :mod:`kenmap.cli.app`)."""


def main() -> None:
    """Run the ``kenmap`` command."""
    from kenmap.cli.app import main as run

    run()
