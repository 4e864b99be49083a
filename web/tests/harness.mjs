// The UI tests' world: a real `cairn server` (the binary of the build under test, serving the
// built UI) over real datastores in a private config dir, and Debian's headless Chromium
// driven by playwright-core. Environment: CAIRN (the binary), CAIRN_WEB_ROOT (the built UI),
// CHROMIUM (default /usr/bin/chromium), CAIRN_SCREENSHOT_DIR (where screenshots go; default a
// temporary dir).
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

export const PASSWORD = "correct horse battery";

export function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (tests/web is run by ctest, see docs/web-ui.md)`);
  return value;
}

export class Cairn {
  constructor() {
    this.binary = required("CAIRN");
    this.root = fs.mkdtempSync(path.join(process.env.TMPDIR ?? os.tmpdir(), "cairn-ui-"));
    this.env = {
      ...process.env,
      HOME: this.root,
      XDG_CONFIG_HOME: this.root,
      XDG_STATE_HOME: this.root,
      XDG_CACHE_HOME: this.root,
      XDG_DATA_HOME: this.root,
      CAIRN_CONFIG_DIR: path.join(this.root, "config"),
    };
  }

  // Runs the CLI; throws with its output if it fails.
  run(args, input) {
    const result = spawnSync(this.binary, args, {
      env: this.env,
      input,
      encoding: "utf8",
      timeout: 600_000,
      maxBuffer: 256 << 20,
    });
    if (result.status !== 0) {
      throw new Error(`cairn ${args.join(" ")} failed (${result.status}):\n${result.stdout}${result.stderr}`);
    }
    return result.stdout;
  }

  // Runs the CLI against the server as `authId` (a user or token) with `secret`.
  remote(authId, secret, store, args) {
    const env = { ...this.env, CAIRN_PASSWORD: secret, CAIRN_FINGERPRINT: this.fingerprint };
    const repository = `${authId}@127.0.0.1:${this.port}:${store}`;
    const result = spawnSync(this.binary, ["--output-format", "json", ...args, "--repository", repository], {
      env,
      encoding: "utf8",
      timeout: 600_000,
    });
    if (result.status !== 0) throw new Error(`cairn ${args.join(" ")} as ${authId} failed:\n${result.stdout}${result.stderr}`);
    return result.stdout;
  }

  createUser(userid, role, aclPath) {
    this.run(["user", "create", userid, "--password-file", "-"], `${PASSWORD}\n`);
    if (role) this.run(["acl", "update", aclPath, role, "--auth-id", userid]);
  }

  // Starts `cairn server` on a free port; resolves once it listens.
  async startServer() {
    const webRoot = required("CAIRN_WEB_ROOT");
    this.server = spawn(
      this.binary,
      ["server", "--listen", "127.0.0.1:0", "--state-dir", path.join(this.root, "state"), "--web-root", webRoot],
      { env: this.env, stdio: ["ignore", "pipe", "pipe"] },
    );
    this.serverLog = "";
    this.server.stderr.on("data", (data) => (this.serverLog += data));
    const lines = createInterface({ input: this.server.stdout });
    const line = await new Promise((resolve, reject) => {
      lines.once("line", resolve);
      this.server.once("exit", (code) => reject(new Error(`server exited (${code}): ${this.serverLog}`)));
    });
    const match = /listening on port (\d+), fingerprint (\S+)/.exec(line);
    if (!match) throw new Error(`server did not start: ${line}`);
    this.port = Number(match[1]);
    this.fingerprint = match[2];
    this.url = `https://127.0.0.1:${this.port}`;
    return this;
  }

  async stop() {
    if (this.server && this.server.exitCode === null) {
      const exited = new Promise((resolve) => this.server.once("exit", resolve));
      this.server.kill("SIGTERM");
      await exited;
    }
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    // Root (CI) cannot use Chromium's sandbox; the page is our own UI on 127.0.0.1.
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
}

// A fresh browser context (own cookies) that accepts the server's self-signed certificate.
export async function newPage(browser) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
  return context.newPage();
}

export async function logIn(page, url, user) {
  await page.goto(url);
  await page.getByLabel("User name").fill(user);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
}

const screenshotDir =
  process.env.CAIRN_SCREENSHOT_DIR ?? fs.mkdtempSync(path.join(process.env.TMPDIR ?? os.tmpdir(), "cairn-shots-"));

export async function screenshot(page, name) {
  fs.mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

const axeSource = fs.readFileSync(new URL("../node_modules/axe-core/axe.min.js", import.meta.url), "utf8");

// axe-core's violations of impact serious or critical on the page as it is now.
export async function seriousViolations(page) {
  // The page's CSP allows its own scripts only: axe runs in the page through the debugger.
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const report = await axe.run(document, { resultTypes: ["violations"] });
    return report.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")) }));
  });
  return result.filter((v) => v.impact === "serious" || v.impact === "critical");
}
