// startService builds cmd/wolfix and runs `wolfix serve` on the embedded default — SQLite in a
// fresh temp data dir, in-process broker, sandbox payments — on a free loopback port, with no
// WOLFIX_* variable of the caller's (an explicit JWT secret or Stripe key would, rightly, turn
// the development sign-in off) but those of extraEnv. Its output goes to test-output/<name>.log.
import { spawn, execFileSync } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, "..", "..");
export const outputDir = join(here, "test-output");

function freePort() {
  return new Promise((ok, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => ok(port));
    });
  });
}

async function waitReady(url, child, deadline) {
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error("wolfix serve exited with " + child.exitCode + " (see test-output/server.log)");
    try {
      if ((await fetch(url + "/readyz")).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("wolfix serve was not ready in time (see test-output/server.log)");
}

export async function startService({ name = "server", extraEnv = {} } = {}) {
  mkdirSync(outputDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), "wolfix-browser-"));
  const bin = join(work, "wolfix");
  execFileSync("go", ["build", "-o", bin, "./cmd/wolfix"], { cwd: repoRoot, stdio: "inherit" });
  const port = await freePort();
  const url = "http://127.0.0.1:" + port;
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("WOLFIX_")));
  Object.assign(env, { WOLFIX_HTTP_ADDR: "127.0.0.1:" + port, WOLFIX_DATA_DIR: join(work, "data"),
    WOLFIX_CONFIG: join(repoRoot, "configs", "wolfix.yaml"), WOLFIX_LOG_LEVEL: "debug" }, extraEnv);
  const logFile = join(outputDir, name + ".log");
  const log = createWriteStream(logFile);
  const child = spawn(bin, ["serve"], { cwd: work, env, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  await waitReady(url, child, Date.now() + 60_000);

  const tokens = {};
  // api calls the service directly, to check what the pages showed against the server's answer.
  async function api(method, path, role) {
    if (!tokens[role]) {
      const r = await fetch(url + "/dev/sign-in", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ role, sub: "e2e-" + role }) });
      tokens[role] = (await r.json()).token;
    }
    const r = await fetch(url + path, { method, headers: { Authorization: "Bearer " + tokens[role] } });
    if (!r.ok) throw new Error(method + " " + path + ": " + r.status + " " + (await r.text()));
    return r.status === 204 ? null : r.json();
  }

  // cliToken is a token from `wolfix token`, as a host application would hand one to the page.
  function cliToken(sub, role) {
    return execFileSync(bin, ["token", "--sub", sub, "--role", role], { cwd: work, env }).toString().trim();
  }

  async function stop() {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGINT");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    await new Promise((r) => log.end(r));
    rmSync(work, { recursive: true, force: true });
  }

  return { url, api, cliToken, stop, logFile };
}
