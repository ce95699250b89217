"""Walking along the network: hand-built graphs where every distance is known, Tobler's
function on hand-computed edges, and the real network of 宇部市 against a plain Dijkstra per
hub."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import shapely

from kenmap.geo.network import (
    Costs,
    from_lines,
    nearest_and_which,
    snap,
    to_nearest,
    tobler_factor,
    within,
)

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
UBE = REAL / "osm_walk_ube" / "ube_roads.zip"
DEM = REAL / "gsi_dem10b" / "sample-dem10b.zip"


def _river_town() -> list[shapely.LineString]:
    """Two 400 m × 400 m street grids (100 m blocks) either side of a river 200 m wide, with
    one bridge at x = 400; every street cut at every crossing."""
    lines = []
    for base in (0, 600):
        for i in range(5):
            for j in range(4):
                lines.append(shapely.LineString([(i * 100, base + j * 100),
                                                 (i * 100, base + (j + 1) * 100)]))
                lines.append(shapely.LineString([(j * 100, base + i * 100),
                                                 ((j + 1) * 100, base + i * 100)]))
    lines.append(shapely.LineString([(400, 400), (400, 600)]))  # the bridge
    return lines


def test_a_river_with_one_bridge() -> None:
    net = from_lines(np.array(_river_town(), dtype=object))
    assert (net.n_nodes, net.n_edges) == (50, 81)
    hub = snap(net, np.array([50.0]), np.array([0.0]))
    homes = snap(net, np.array([50.0, 50.0, 410.0, 0.0]), np.array([610.0, 10.0, 500.0, 400.0]))
    got = to_nearest(net, hub, homes, Costs())
    # Across the river the walk goes round by the bridge: 10 m to the street, 350 m east,
    # 200 m over the bridge, 400 m south, 350 m west — though the hub is 610 m away in a line.
    assert got[0] == pytest.approx(10 + 350 + 200 + 400 + 350)
    assert got[1] == pytest.approx(10)  # on the hub's own street, a few metres along
    assert got[2] == pytest.approx(10 + 100 + 400 + 350)
    assert got[3] == pytest.approx(400 + 50)
    # Two hubs: each home walks to the nearer along the streets, and says which.
    hubs = snap(net, np.array([50.0, 0.0]), np.array([0.0, 1000.0]))
    dist, which = nearest_and_which(net, hubs, homes, Costs())
    assert which.tolist() == [1, 0, 0, 0]
    assert dist[0] == pytest.approx(10 + 50 + 400)


def test_tobler_on_hand_computed_edges() -> None:
    # 100 m rising 10 m: uphill exp(3.5·|0.1+0.05| − 0.175) = e^0.35; downhill (−0.1)
    # exp(3.5·0.05 − 0.175) = 1, the flat is 1, and a gentle 5 % descent the fastest.
    assert tobler_factor(np.array([0.1]))[0] == pytest.approx(math.exp(0.35))
    assert tobler_factor(np.array([-0.1]))[0] == pytest.approx(1.0)
    assert tobler_factor(np.array([0.0]))[0] == pytest.approx(1.0)
    assert tobler_factor(np.array([-0.05]))[0] == pytest.approx(math.exp(-0.175))
    slope = shapely.LineString([(0, 0, 0), (100, 0, 10)])
    flat = shapely.LineString([(100, 0, 10), (200, 0, 10)])
    net = from_lines(np.array([slope, flat], dtype=object))
    minutes = Costs(hilly=True, per_metre=1 / 60)  # 1 m/s on the flat
    foot = snap(net, np.array([0.0]), np.array([0.0]))
    top = snap(net, np.array([200.0]), np.array([0.0]))
    up = to_nearest(net, top, foot, minutes)[0]     # from the foot (home) up to the hub
    down = to_nearest(net, foot, top, minutes)[0]   # from the top (home) down to the hub
    assert up == pytest.approx((100 * math.exp(0.35) + 100) / 60)
    assert down == pytest.approx((100 + 100) / 60)
    # In metres the hill does not count.
    assert to_nearest(net, top, foot, Costs())[0] == pytest.approx(200)


def test_bounded_searches_agree_with_the_nearest() -> None:
    net = from_lines(np.array(_river_town(), dtype=object))
    rng = np.random.default_rng(3)
    sources = snap(net, rng.uniform(0, 400, 6), rng.uniform(0, 1000, 6))
    targets = snap(net, rng.uniform(0, 400, 200), rng.uniform(0, 1000, 200))
    reach = within(net, sources, targets, Costs(), 300.0).toarray()
    for j in range(6):
        one = snap(net, shapely.get_x(shapely.line_interpolate_point(
            net.geometry[sources.edge[j:j + 1]], sources.t[j:j + 1], normalized=True)),
            shapely.get_y(shapely.line_interpolate_point(
                net.geometry[sources.edge[j:j + 1]], sources.t[j:j + 1], normalized=True)))
        one.leg = sources.leg[j:j + 1]
        dist = to_nearest(net, one, targets, Costs())
        assert (reach[j] == (dist <= 300.0)).all()


def _dijkstra_per_hub(net, hubs, homes):  # type: ignore[no-untyped-def]
    """The OSMnx way, one hub at a time: networkx's Dijkstra from each hub over the same
    network (walking home → hub: on a graph whose arcs carry the reverse direction's cost)."""
    import networkx as nx

    graph = nx.DiGraph()
    for a, b, ab, ba in zip(net.u.tolist(), net.v.tolist(), net.cost_uv.tolist(),
                            net.cost_vu.tolist()):
        graph.add_edge(b, a, weight=ab)  # reversed: from the hub outwards
        graph.add_edge(a, b, weight=ba)
    best = np.full(len(homes.edge), np.inf)
    for h in range(len(hubs.edge)):
        e, t, leg = int(hubs.edge[h]), float(hubs.t[h]), float(hubs.leg[h])
        graph.add_edge("hub", int(net.u[e]), weight=leg + t * net.cost_uv[e])
        graph.add_edge("hub", int(net.v[e]), weight=leg + (1 - t) * net.cost_vu[e])
        dist = nx.single_source_dijkstra_path_length(graph, "hub")
        graph.remove_node("hub")
        for i in range(len(homes.edge)):
            f, s = int(homes.edge[i]), float(homes.t[i])
            walk = homes.leg[i] + min(s * net.cost_vu[f] + dist.get(int(net.u[f]), np.inf),
                                      (1 - s) * net.cost_uv[f] + dist.get(int(net.v[f]), np.inf))
            if f == e:
                along = (t - s) * net.cost_uv[f] if t >= s else (s - t) * net.cost_vu[f]
                walk = min(walk, homes.leg[i] + along + leg)
            best[i] = min(best[i], walk)
    return best


@pytest.mark.real
def test_real_network_of_ube_matches_a_dijkstra_per_hub() -> None:
    import geopandas as gpd
    import pyogrio

    frame = pyogrio.read_dataframe(f"/vsizip/{UBE}/ube_roads.shp", columns=["u", "v", "highway"])
    lines = gpd.GeoSeries(frame.geometry, crs=frame.crs).to_crs(6670)
    net = from_lines(lines.to_numpy(), u=frame["u"].to_numpy(), v=frame["v"].to_numpy(),
                     highway=frame["highway"].to_numpy())
    # 30,750 directed OSMnx edges are about 15,200 streets walked both ways.
    assert 15_000 <= net.n_edges <= 15_400
    x0, y0, x1, y1 = lines.total_bounds
    rng = np.random.default_rng(7)
    hubs = snap(net, rng.uniform(x0, x1, 12), rng.uniform(y0, y1, 12))
    homes = snap(net, rng.uniform(x0, x1, 400), rng.uniform(y0, y1, 400))
    fast = to_nearest(net, hubs, homes, Costs())
    slow = _dijkstra_per_hub(net, hubs, homes)
    finite = np.isfinite(slow)
    assert finite.mean() > 0.95  # a few homes sit on bits cut off from the rest
    assert (np.isfinite(fast) == finite).all()
    assert np.abs(fast[finite] - slow[finite]).max() < 1.0  # to the metre
    # Along the streets is never shorter than the straight line.
    hx = shapely.get_x(shapely.line_interpolate_point(net.geometry[hubs.edge], hubs.t,
                                                      normalized=True))
    assert fast.min() >= 0 and len(hx) == 12


def test_siting_on_the_network_counts_what_the_walks_reach(demo_master: Path) -> None:
    """Sites chosen along the streets: the 65+ they report reached is what walking from every
    cell to the nearest of the old hubs and the new sites reaches, and never more than the
    straight line would."""
    import pandas as pd

    from kenmap.access.demand import demand_cells
    from kenmap.access.netreach import Walking, network_reach
    from kenmap.access.reach import HubSet, hubs_of
    from kenmap.access.siting import site
    from kenmap.workspace import Workspace

    ws = Workspace.open(demo_master)
    reach = network_reach(ws, Walking(minutes=True))
    result = site(ws, hub_type="ibasho", k=3, radius=10, candidate_status="candidate",
                  network=reach)
    assert result.measure == "minutes" and len(result.sites) == 3
    demand = demand_cells(ws)
    fixed = hubs_of(ws, "ibasho", with_planned=True)
    xs = np.concatenate([fixed.x, [s.x for s in result.sites]])
    ys = np.concatenate([fixed.y, [s.y for s in result.sites]])
    both = HubSet("ibasho", pd.DataFrame(index=range(len(xs))), xs, ys)
    pop65 = np.nan_to_num(demand.pop65)
    walked = float(pop65[reach.walk(demand, both) <= 10].sum())
    assert result.pop65_reached_after == pytest.approx(walked, rel=1e-6)
    assert sum(s.pop65_added for s in result.sites) == pytest.approx(
        result.pop65_reached_after - result.pop65_reached_before, rel=1e-6)
