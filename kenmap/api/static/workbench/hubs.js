// Hubs on the map: one marker each, shown by type; for editors, added by clicking the map and
// moved by dragging (Leaflet-Geoman), every change sent with the version it was based on.

import { ApiError, get, patch } from './api.js';
import { degrees, el, toast } from './dom.js';
import { resolveConflict } from './hubform.js';

export class Hubs {
  constructor(app) {
    this.app = app;
    this.map = app.areaMap.map;
    this.group = L.layerGroup().addTo(this.map);
    this.markers = new Map(); // hub id → marker (marker.hub: the hub as last saved)
    this.types = new Map(app.config.hub_types.map((t) => [t.key, t]));
    this.shownType = null;
    this.allTypes = false;
    this.editable = false;
    this.adding = false;
    this.map.on('pm:create', (event) => this.created(event));
  }

  async load() {
    const data = await get('/api/hubs');
    const seen = new Set();
    for (const feature of data.features) {
      this.put(feature.properties);
      seen.add(feature.properties.id);
    }
    for (const id of [...this.markers.keys()]) if (!seen.has(id)) this.remove(id);
  }

  // Fetch one hub as it is now on the server (null when it was deleted).
  async current(id) {
    const data = await get('/api/hubs', { fresh: true });
    const found = data.features.find((f) => f.properties.id === id);
    return found ? found.properties : null;
  }

  icon(hub) {
    const type = this.types.get(hub.type);
    const node = el('div', { class: `km-hub km-hub-${hub.status}` }, type ? type.glyph : '?');
    node.style.setProperty('--hub-colour', type ? type.colour : '#555555');
    return L.divIcon({ html: node, className: 'km-hub-icon', iconSize: [26, 26], iconAnchor: [13, 13] });
  }

  put(hub) {
    let marker = this.markers.get(hub.id);
    if (!marker) {
      marker = L.marker([hub.lat, hub.lon], {
        icon: this.icon(hub), pmIgnore: false, title: hub.name, riseOnHover: true,
      });
      // Dropped where the hand let go: never snapped onto a nearby hub.
      if (marker.pm) marker.pm.setOptions({ snappable: false });
      marker.on('click', () => this.app.openHub(marker.hub.id));
      marker.on('pm:dragend', () => this.dragged(marker));
      this.markers.set(hub.id, marker);
    } else {
      marker.setLatLng([hub.lat, hub.lon]);
      marker.setIcon(this.icon(hub));
      const node = marker.getElement();
      if (node) node.title = hub.name;
    }
    marker.hub = hub;
    this.place(marker);
    return marker;
  }

  remove(id) {
    const marker = this.markers.get(id);
    if (!marker) return;
    this.group.removeLayer(marker);
    this.markers.delete(id);
  }

  place(marker) {
    const show = this.allTypes || marker.hub.type === this.shownType;
    if (show && !this.group.hasLayer(marker)) this.group.addLayer(marker);
    if (!show && this.group.hasLayer(marker)) this.group.removeLayer(marker);
  }

  show(type, allTypes) {
    this.shownType = type;
    this.allTypes = allTypes;
    for (const marker of this.markers.values()) this.place(marker);
  }

  setEditable(editable) {
    this.editable = editable;
    if (!editable) this.stopEditing();
  }

  // Add mode: the next click on the map places a new hub (its form opens there).
  startAdding() {
    this.stopMoving();
    this.adding = true;
    this.map.pm.enableDraw('Marker', {
      markerStyle: { icon: this.icon({ type: this.shownType, status: 'planned' }) },
      continueDrawing: false, snappable: false,
    });
    this.app.hint('地図をクリックすると、その場所に拠点を追加します（Esc で中止）');
  }

  created(event) {
    if (event.shape !== 'Marker') return;
    const { lat, lng } = event.layer.getLatLng();
    this.map.removeLayer(event.layer);
    this.stopEditing();
    this.app.newHub({ lat, lon: lng, type: this.shownType });
  }

  startMoving() {
    this.stopAdding();
    this.map.pm.enableGlobalDragMode();
    this.app.hint('拠点をドラッグすると、その位置に移して保存します');
  }

  moving() { return this.map.pm.globalDragModeEnabled(); }

  stopMoving() {
    if (this.map.pm.globalDragModeEnabled()) this.map.pm.disableGlobalDragMode();
  }

  stopAdding() {
    if (this.adding) this.map.pm.disableDraw();
    this.adding = false;
  }

  stopEditing() {
    this.stopAdding();
    this.stopMoving();
    this.app.hint(null);
  }

  // A marker dropped somewhere else: save its new place (based on the version shown).
  async dragged(marker) {
    const hub = marker.hub;
    const { lat, lng } = marker.getLatLng();
    const change = { lon: degrees(lng), lat: degrees(lat) };
    await this.app.saveTimed('move', async () => {
      try {
        const saved = await patch(`/api/hubs/${hub.id}`, { version: hub.version, ...change });
        this.put(saved);
        toast(`「${saved.name}」を移動しました`);
        return saved;
      } catch (error) {
        if (error instanceof ApiError && error.status === 409) {
          const result = await resolveConflict(this.app, hub, change, 'save');
          if (!result) marker.setLatLng([hub.lat, hub.lon]);
          return result;
        }
        marker.setLatLng([hub.lat, hub.lon]);
        toast(error.message, 'error');
        return null;
      }
    });
  }
}
