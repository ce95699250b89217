"""Folium maps of layers, indicators, hubs and gaps; offline pages and printable images."""
