// Writes commitments/data/states.json: the states that can join the Convention, by ISO 3166
// alpha-2 code, with their UN M49 region. Run from the repository's root after `make checkers`:
//   node commitments/data/build_states.mjs
// Source: npm world-countries (mledoze/countries, ODbL 1.0), pinned in package.json. The list is
// the UN's member states, the Holy See and the State of Palestine (observer states), and the Cook
// Islands and Niue, which the depositary treats as states ("open for signature by all States").
import { readFileSync, writeFileSync } from "node:fs";

const countries = JSON.parse(
  readFileSync("node_modules/world-countries/countries.json", "utf8"),
);
const STATES_NOT_UN_MEMBERS = new Set(["VA", "PS", "CK", "NU"]);
const states = countries
  .filter((c) => (c.unMember && c.cca2 !== "VA") || STATES_NOT_UN_MEMBERS.has(c.cca2))
  .map((c) => ({ country: c.cca2, region: c.region.toLowerCase() }))
  .sort((a, b) => a.country.localeCompare(b.country));
const regions = new Set(["africa", "americas", "asia", "europe", "oceania"]);
for (const s of states) {
  if (!regions.has(s.region)) throw new Error(`${s.country}: region ${s.region}`);
}
if (states.length !== 197) throw new Error(`expected 197 states, found ${states.length}`);
writeFileSync(
  "commitments/data/states.json",
  '{\n "source": ' +
    JSON.stringify(
      "UN member states (193), the Holy See and the State of Palestine, the Cook Islands and " +
        "Niue; regions of the UN M49 standard. Machine-readable copy: npm world-countries 5.1.0 " +
        "(mledoze/countries, ODbL 1.0). Built by commitments/data/build_states.mjs.",
    ) +
    ',\n "states": [\n' +
    states.map((s) => "  " + JSON.stringify(s)).join(",\n") +
    "\n ]\n}\n",
);
console.log(`${states.length} states written`);
