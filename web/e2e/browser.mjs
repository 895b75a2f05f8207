// launchBrowser starts Debian's Chromium (never a downloaded browser) headless with a fresh
// profile directory. Its pages record what the browser complains about (script errors, CSP
// violations), and screenshot saves a full-page PNG under test-output/.
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { outputDir } from "./service.mjs";

const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"];

export async function launchBrowser(baseURL) {
  const profile = mkdtempSync(join(tmpdir(), "wolfix-chromium-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath, headless: true,
    args: flags, viewport: { width: 1280, height: 900 }, baseURL });
  const problems = [];
  return {
    context,
    // open loads path in a new tab.
    async open(path) {
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      page.on("pageerror", (e) => problems.push(path + ": " + e.message));
      page.on("console", (m) => {
        // a 4xx the page handles (a refused card number, a payment still settling) is logged too
        if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(path + ": " + m.text());
      });
      await page.goto(path);
      return page;
    },
    // takeProblems answers what the browser reported since the last call.
    takeProblems: () => problems.splice(0),
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(outputDir, name + ".png"), fullPage: true });
}
