"""The welfare-planning domain: schemes, areas and their hierarchy. Pure functions over frames."""
