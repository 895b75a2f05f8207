// launchBrowser starts Debian's Chromium (never a downloaded browser) headless with a fresh
// profile directory; screenshot saves a full-page PNG under test-output/.
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { outputDir } from "./service.mjs";

const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"];

export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), "wolfix-chromium-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath, headless: true,
    args: flags, viewport: { width: 1280, height: 900 } });
  return {
    newPage: () => context.newPage(),
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(outputDir, name + ".png"), fullPage: true });
}
