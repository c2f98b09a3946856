// Lighthouse's accessibility and SEO categories on every address given, in one Node process
// with one Chromium (tests/browser/test_lighthouse.py runs it).
//
//   CHROME_PATH=/usr/bin/chromium node tests/browser/lighthouse.mjs URL...
//
// Prints one JSON object: {url: {scores: {accessibility, seo}, failing: [{id, title, items}]}}.
// Chromium resolves no host but localhost: the audits read the tracker and nothing else.
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";

const CATEGORIES = ["accessibility", "seo"];
const urls = process.argv.slice(2);
// Neither category measures speed: no waiting for quiet windows after the load (with the
// default "simulate" throttling they may be 0; "provided" would force 5.25 s each, ~16 s a
// page), no screenshots.
const CONFIG = {
  extends: "lighthouse:default",
  settings: {
    onlyCategories: CATEGORIES,
    pauseAfterFcpMs: 0,
    pauseAfterLoadMs: 0,
    networkQuietThresholdMs: 0,
    cpuQuietThresholdMs: 0,
    disableFullPageScreenshot: true,
    skipAboutBlank: true,
  },
};

const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROME_PATH || "/usr/bin/chromium",
  chromeFlags: [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
  ],
  logLevel: "silent",
});

const report = {};
try {
  for (const url of urls) {
    const { lhr } = await lighthouse(url, { port: chrome.port, logLevel: "error" }, CONFIG);
    if (lhr.runtimeError) {
      report[url] = { error: `${lhr.runtimeError.code}: ${lhr.runtimeError.message}` };
      continue;
    }
    const failing = [];
    for (const id of CATEGORIES) {
      for (const ref of lhr.categories[id].auditRefs) {
        const audit = lhr.audits[ref.id];
        if (ref.weight > 0 && audit.score !== null && audit.score < 1) {
          failing.push({
            category: id,
            id: audit.id,
            title: audit.title,
            items: (audit.details?.items ?? []).map((item) => item.node?.snippet ?? item),
          });
        }
      }
    }
    report[url] = {
      scores: Object.fromEntries(CATEGORIES.map((id) => [id, lhr.categories[id].score])),
      failing,
    };
  }
} finally {
  await chrome.kill();
}
process.stdout.write(JSON.stringify(report, null, 2));
