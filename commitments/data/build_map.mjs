// Writes commitments/data/world-map.json: the world's countries pre-projected into SVG path
// data, read by the /states/ page (commitments/states.py), which draws the map on the server.
// Nothing is fetched at run time. Run from the repository's root after `make checkers`:
//   node commitments/data/build_map.mjs
//
// Geometry: Natural Earth 1:50m Admin 0 countries (public domain), as redistributed by npm
// world-atlas 2.0.2 (TopoJSON, ids ISO 3166-1 numeric), pinned in package.json. 1:50m rather
// than 1:110m because 1:110m leaves out 30 of the Convention's 197 states (the small island
// states, Andorra, Liechtenstein, Malta, Singapore, …); 1:50m has all but Tuvalu. Every state
// whose shape would be smaller than a few pixels (and Tuvalu, placed by its capital region's
// coordinates from npm world-countries) also gets a marker, a small circle, so that it can be
// seen and followed like the others.
//
// Projection: Equal Earth (d3-geo), areas true to scale, fitted to a 1000-unit-wide box.
// Antarctica is left out (it is no state and would take a fifth of the height). Coordinates
// are rounded to 0.1 unit and written as relative commands, repeated points dropped: the
// file stays under 300 KB, a few tenths of a pixel from the source at any size it is shown.
//
// ISO numeric → alpha-2: npm world-countries 5.1.0 (ccn3 → cca2), the table the states list
// (build_states.mjs) comes from. Countries with no ISO code (Kosovo, Northern Cyprus,
// Somaliland, …) are kept, under "others", and drawn neutral, as are countries that are not
// among the 197 states (Greenland, Western Sahara, Taiwan, …).
import { readFileSync, writeFileSync } from "node:fs";
import { geoCentroid, geoEqualEarth, geoPath } from "d3-geo";
import { feature } from "topojson-client";

const WIDTH = 1000;
const PRECISION = 10; // units per coordinate step: 0.1
const MARKER_BELOW = 6; // a state whose land covers less than this area (units²) gets a marker
const TOLERANCE = Number(process.env.TOLERANCE || 0.5); // drop a point this close to the last kept
const PAD = 6; // room at the edges for the markers

const countries = JSON.parse(readFileSync("node_modules/world-countries/countries.json", "utf8"));
const alpha2 = new Map(countries.map((c) => [c.ccn3, c.cca2]));
const states = new Set(
  JSON.parse(readFileSync("commitments/data/states.json", "utf8")).states.map((s) => s.country),
);
const topology = JSON.parse(readFileSync("node_modules/world-atlas/countries-50m.json", "utf8"));
const all = feature(topology, topology.objects.countries).features;
const shown = all.filter((f) => alpha2.get(f.id) !== "AQ");

const collection = { type: "FeatureCollection", features: shown };
const projection = geoEqualEarth().fitWidth(WIDTH - 2 * PAD, collection);
const [[left, top], [, bottom]] = geoPath(projection).bounds(collection);
const [tx, ty] = projection.translate();
projection.translate([tx - left + PAD, ty - top + PAD]);
const height = Math.ceil(bottom - top + 2 * PAD);

// A path context writing compact SVG path data: relative commands on a 0.1 grid.
class Compact {
  constructor() {
    this.parts = [];
    this.raw = []; // the ring on the grid, repeated points dropped
    this.kept = []; // the same, points closer than TOLERANCE to the last kept one dropped
  }
  moveTo(x, y) {
    this.flush();
    const point = [Math.round(x * PRECISION), Math.round(y * PRECISION)];
    this.raw = [point];
    this.kept = [point];
  }
  lineTo(x, y) {
    const point = [Math.round(x * PRECISION), Math.round(y * PRECISION)];
    const last = this.raw[this.raw.length - 1];
    if (point[0] !== last[0] || point[1] !== last[1]) this.raw.push(point);
    const kept = this.kept[this.kept.length - 1];
    if (Math.hypot(point[0] - kept[0], point[1] - kept[1]) >= TOLERANCE * PRECISION) {
      this.kept.push(point);
    }
  }
  closePath() {
    this.flush(true);
  }
  arc() {
    throw new Error("no point radius is set: no arc expected");
  }
  flush(closed = false) {
    // A small island keeps its few points rather than vanish; a ring that rounds to fewer
    // than three points draws nothing and is dropped (its state gets a marker).
    const ring = this.kept.length >= 3 ? this.kept : this.raw;
    if (ring.length >= 3) {
      const [first, ...rest] = ring;
      let [px, py] = first;
      const steps = rest.map(([x, y]) => {
        const step = `${num(x - px)} ${num(y - py)}`;
        [px, py] = [x, y];
        return step;
      });
      const d = `M${num(first[0])} ${num(first[1])}l${steps.join(" ")}${closed ? "z" : ""}`;
      this.parts.push(d.replace(/ -/g, "-"));
    }
    this.raw = this.kept = [];
  }
  result() {
    this.flush();
    const d = this.parts.join("");
    this.parts = [];
    return d;
  }
}

function num(units) {
  // 123 → "12.3", 5 → ".5", -5 → "-.5", 120 → "12"
  const value = units / PRECISION;
  return String(value).replace(/^(-?)0\./, "$1.");
}

const context = new Compact();
const path = geoPath(projection, context);
const round = (n) => Math.round(n * 10) / 10;

// Each state's features together (Australia's include the Ashmore and Cartier Islands).
const byState = new Map();
const others = [];
for (const f of shown) {
  const code = alpha2.get(f.id);
  if (code && states.has(code)) {
    byState.set(code, [...(byState.get(code) || []), f]);
  } else {
    path(f);
    const d = context.result();
    if (d) others.push(d);
  }
}
const drawn = {};
const markers = {};
const measure = geoPath(projection);
for (const [code, features] of byState) {
  const collection = { type: "FeatureCollection", features };
  path(collection);
  const d = context.result();
  if (d) drawn[code] = d;
  if (!d || measure.area(collection) < MARKER_BELOW) {
    // The spherical centroid: a planar one is wrong for an archipelago across 180° (Kiribati).
    const [cx, cy] = projection(geoCentroid(collection));
    markers[code] = [round(cx), round(cy)];
  }
}
// States the 1:50m geometry leaves out: a marker only, where world-countries places them.
for (const code of [...states].sort()) {
  if (byState.has(code)) continue;
  const country = countries.find((c) => c.cca2 === code);
  const [lat, lon] = country.latlng;
  const [x, y] = projection([lon, lat]);
  markers[code] = [round(x), round(y)];
}
const missing = [...states].filter((code) => !drawn[code] && !markers[code]);
if (missing.length) throw new Error(`not on the map: ${missing.join(" ")}`);

const sorted = (object) => Object.fromEntries(Object.entries(object).sort());
const output = {
  source:
    "Natural Earth 1:50m Admin 0 countries (public domain), from npm world-atlas 2.0.2; " +
    "Equal Earth projection (d3-geo 3.1.1); ISO codes from npm world-countries 5.1.0. " +
    "Built by commitments/data/build_map.mjs.",
  viewBox: `0 0 ${WIDTH} ${height}`,
  countries: sorted(drawn),
  markers: sorted(markers),
  others,
};
const text = JSON.stringify(output);
writeFileSync("commitments/data/world-map.json", text + "\n");
console.log(
  `${Object.keys(drawn).length} states drawn, ${Object.keys(markers).length} markers, ` +
    `${others.length} other shapes; ${Math.round(text.length / 1024)} KB`,
);
