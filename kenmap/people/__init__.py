"""People and figures: population by age band, counts summed upward, grids, the figures of
every area on every layer, and generated 隣近所 cells (which carry population)."""
