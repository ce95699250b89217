"""The files of the pinned npm packages (``package.json``) that kenmap ships.

Paths are relative to ``node_modules``. Building the wheel (``setup.py``) copies them, with each
package's licence, into ``kenmap/maps/vendor/``, so an installed kenmap writes offline map
pages and serves its API documentation and the workbench with no npm. This module imports
nothing: ``setup.py`` reads it before kenmap's dependencies exist.
"""

VENDOR_FILES: tuple[str, ...] = (
    # Leaflet (BSD-2-Clause): inlined into every map page.
    "leaflet/LICENSE",
    "leaflet/dist/leaflet.js",
    "leaflet/dist/leaflet.css",
    "leaflet/dist/images/layers.png",
    "leaflet/dist/images/layers-2x.png",
    "leaflet/dist/images/marker-icon.png",
    "leaflet/dist/images/marker-icon-2x.png",
    "leaflet/dist/images/marker-shadow.png",
    # Leaflet.markercluster (MIT): hub markers.
    "leaflet.markercluster/MIT-LICENCE.txt",
    "leaflet.markercluster/dist/leaflet.markercluster.js",
    "leaflet.markercluster/dist/MarkerCluster.css",
    "leaflet.markercluster/dist/MarkerCluster.Default.css",
    # topojson-client (ISC): area outlines sent as TopoJSON.
    "topojson-client/LICENSE",
    "topojson-client/dist/topojson-client.min.js",
    # Leaflet-Geoman (MIT): adding and moving hubs on the workbench's map.
    "@geoman-io/leaflet-geoman-free/LICENSE",
    "@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js",
    "@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css",
    # Swagger UI (Apache-2.0): the server's /docs.
    "swagger-ui-dist/LICENSE",
    "swagger-ui-dist/NOTICE",
    "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui-dist/swagger-ui-bundle.js.LICENSE.txt",
    "swagger-ui-dist/swagger-ui.css",
    "swagger-ui-dist/favicon-32x32.png",
)
