// The web UI in a real browser against a real server (docs/web-ui.md): log in, the dashboard,
// a GC started from the UI and followed to TASK OK, content actions, what a reader may not
// do, an expired session, accessibility and the size of the first page's bundle.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { Cairn, PASSWORD, launchBrowser, logIn, newPage, screenshot, seriousViolations } from "./harness.mjs";

describe("web UI", () => {
  let cairn;
  let browser;

  before(async () => {
    cairn = new Cairn();
    const store = path.join(cairn.root, "store1");
    cairn.run(["datastore", "create", "store1", store]);
    cairn.createUser("admin@pbs", "Admin", "/");
    cairn.createUser("reader@pbs", "DatastoreReader", "/datastore/store1");
    const data = path.join(cairn.root, "data");
    fs.mkdirSync(data);
    fs.writeFileSync(path.join(data, "hello.txt"), "hello from the web UI test\n");
    fs.writeFileSync(path.join(data, "random.bin"), Buffer.alloc(300_000, 7));
    fs.mkdirSync(path.join(data, "docs"));
    fs.writeFileSync(path.join(data, "docs", "readme.md"), "# read me\n".repeat(1000));
    fs.linkSync(path.join(data, "docs", "readme.md"), path.join(data, "docs", "same.md"));  // a hard link
    for (const time of [1_790_000_000, 1_790_003_600]) {
      cairn.run(["backup", "--store", "store1", "--backup-id", "web1", "--backup-time", String(time), `root.pxar:${data}`]);
    }
    for (let i = 0; i < 4; i++) {
      cairn.run(["backup", "--store", "store1", "--backup-id", "prunable", "--backup-time", String(1_790_000_000 + i * 3600),
                 `root.pxar:${path.join(data, "docs")}`]);
    }
    // A group of 10,000 snapshots: copies of one, an hour apart from 2020-01-01.
    const web1 = path.join(store, "host", "web1");
    const first = fs.readdirSync(web1).filter((name) => name.startsWith("2026"))[0];
    const many = path.join(store, "host", "many");
    fs.mkdirSync(many);
    fs.copyFileSync(path.join(web1, "owner"), path.join(many, "owner"));
    for (let i = 0; i < 10_000; i++) {
      const name = new Date(Date.UTC(2020, 0, 1) + i * 3_600_000).toISOString().replace(".000Z", "Z");
      fs.cpSync(path.join(web1, first), path.join(many, name), { recursive: true });
    }
    await cairn.startServer();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await cairn?.stop();
  });

  test("a wrong password is refused with a message, the right one opens the dashboard", async () => {
    const page = await newPage(browser);
    await page.goto(cairn.url);
    await screenshot(page, "login");
    await page.getByLabel("User name").fill("admin@pbs");
    await page.getByLabel("Password").fill("wrong");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("alert").filter({ hasText: "wrong user name or password" }).waitFor({ timeout: 30_000 });
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    await page.getByRole("link", { name: "store1" }).first().waitFor();
    // The ticket is an HttpOnly cookie: the page's scripts cannot read it.
    assert.equal(await page.evaluate(() => document.cookie.includes("PBSAuthCookie")), false);
    const cookies = await page.context().cookies();
    const ticket = cookies.find((cookie) => cookie.name === "__Host-PBSAuthCookie");
    assert.ok(ticket?.httpOnly && ticket.secure, "the ticket cookie is Secure and HttpOnly");
    await screenshot(page, "dashboard");
    await page.context().close();
  });

  test("a GC started from the datastore page opens its log, which follows it to TASK OK", async () => {
    const page = await newPage(browser);
    await logIn(page, cairn.url, "admin@pbs");
    await page.getByRole("link", { name: "store1" }).first().click();
    await page.getByRole("heading", { name: "Datastore store1" }).waitFor();
    await screenshot(page, "datastore-summary");
    await page.getByRole("button", { name: "Start garbage collection" }).click();
    await page.getByRole("heading", { name: /Garbage collection store1/ }).waitFor();
    await page.getByTestId("task-log").filter({ hasText: "TASK OK" }).waitFor({ timeout: 120_000 });
    await page.getByTestId("task-status").filter({ hasText: "OK" }).waitFor();
    await screenshot(page, "task-log");
    // The summary now shows the GC's figures, the dashboard its result.
    await page.goto(`${cairn.url}/#/datastore/store1`);
    await page.getByText("Deduplication").first().waitFor();
    await page.goto(`${cairn.url}/#/dashboard`);
    await page.getByRole("cell", { name: /×/ }).waitFor();
    await page.context().close();
  });

  test("notes and protection are edited in the content view", async () => {
    const page = await newPage(browser);
    await logIn(page, cairn.url, "admin@pbs");
    await page.goto(`${cairn.url}/#/datastore/store1/content`);
    await page.getByRole("button", { name: "host/web1" }).click();
    const edit = page.getByRole("button", { name: /Edit notes of host\/web1\/2026-09-21T14:13:20Z/ });
    await edit.click();
    const notes = page.getByLabel("Notes", { exact: true });
    await notes.waitFor();
    await assert.doesNotReject(page.waitForFunction(() => !document.querySelector("dialog textarea")?.disabled));
    await notes.fill("before the upgrade\nsecond line");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("cell", { name: "before the upgrade" }).waitFor();
    await page.getByRole("button", { name: /^Protect host\/web1\/2026-09-21T14:13:20Z/ }).click();
    await page.getByRole("button", { name: /^Unprotect host\/web1\/2026-09-21T14:13:20Z/ }).waitFor();
    // A protected snapshot offers no Forget.
    assert.equal(await page.getByRole("button", { name: /Forget host\/web1\/2026-09-21T14:13:20Z/ }).count(), 0);
    await screenshot(page, "content");
    const listed = JSON.parse(cairn.run(["--output-format", "json", "snapshot", "list", "--store", "store1"]));
    const snapshot = listed.find((item) => item["backup-id"] === "web1" && item["backup-time"] === 1_790_000_000);
    assert.equal(snapshot?.protected, true);
    await page.context().close();
  });

  test("a file and a folder are downloaded from the catalog without a restore", async () => {
    const page = await newPage(browser);
    await logIn(page, cairn.url, "admin@pbs");
    await page.goto(`${cairn.url}/#/datastore/store1/content`);
    await page.getByRole("button", { name: "host/web1" }).click();
    await page.getByRole("button", { name: /Browse the files of host\/web1\/2026-09-21T15:13:20Z/ }).click();
    await page.getByRole("button", { name: "root.pxar.didx/" }).click();
    await page.getByRole("button", { name: "docs/" }).waitFor();
    await screenshot(page, "file-browser");
    const [file] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Download hello.txt" }).click(),
    ]);
    assert.equal(fs.readFileSync(await file.path(), "utf8"), "hello from the web UI test\n");
    const [zip] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Download docs as zip" }).click(),
    ]);
    const zipped = fs.readFileSync(await zip.path());
    assert.equal(zipped.subarray(0, 4).toString("binary"), "PK\x03\x04");
    assert.ok(zipped.includes("docs/readme.md"), "the zip holds docs/readme.md");
    assert.equal(zip.suggestedFilename(), "docs.zip");
    // Both names of the hard-linked file hold its content (a hard link once broke the download).
    const listed = spawnSync("python3", ["-c", "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(z.read('docs/readme.md') == z.read('docs/same.md') and len(z.read('docs/same.md')))", await zip.path()], { encoding: "utf8" });
    assert.equal(listed.stdout.trim(), String("# read me\n".length * 1000), listed.stderr);
    await page.context().close();
  });

  test("prune shows a dry-run preview per snapshot, then removes what it showed; the owner changes", async () => {
    const page = await newPage(browser);
    await logIn(page, cairn.url, "admin@pbs");
    await page.goto(`${cairn.url}/#/datastore/store1/content`);
    await page.getByRole("button", { name: "host/prunable" }).click();
    await page.getByRole("button", { name: "Prune group" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Keep last").fill("2");
    await dialog.getByRole("button", { name: "Preview" }).click();
    await dialog.getByRole("heading", { name: "Preview: 2 kept, 2 removed" }).waitFor();
    assert.equal(await dialog.getByText("remove", { exact: true }).count(), 2);
    await screenshot(page, "prune-preview");
    // The preview removed nothing.
    const listed = () =>
      JSON.parse(cairn.run(["--output-format", "json", "snapshot", "list", "--store", "store1"])).filter(
        (item) => item["backup-id"] === "prunable",
      );
    assert.equal(listed().length, 4);
    await dialog.getByRole("button", { name: "Remove 2 snapshots" }).click();
    await dialog.waitFor({ state: "detached" });
    assert.deepEqual(listed().map((item) => item["backup-time"]).sort(), [1_790_007_200, 1_790_010_800]);
    await page.getByRole("button", { name: "Change owner" }).click();
    await page.getByRole("dialog").getByLabel("New owner").fill("reader@pbs");
    await page.getByRole("dialog").getByRole("button", { name: "Change owner" }).click();
    await page.getByRole("cell", { name: "reader@pbs", exact: true }).waitFor();
    await page.context().close();
  });

  test("a reader sees no forget button, and the API refuses the removal anyway", async () => {
    const page = await newPage(browser);
    await logIn(page, cairn.url, "reader@pbs");
    await page.goto(`${cairn.url}/#/datastore/store1/content`);
    await page.getByRole("button", { name: "host/web1" }).click();
    await page.getByRole("cell", { name: /2026-09-21/ }).first().waitFor();
    assert.equal(await page.getByRole("button", { name: /^Forget/ }).count(), 0);
    assert.equal(await page.getByRole("button", { name: /^Edit notes/ }).count(), 0);
    const status = await page.evaluate(async () => {
      const session = JSON.parse(sessionStorage.getItem("cairn-session"));
      const response = await fetch(
        "/api2/json/admin/datastore/store1/snapshots?backup-type=host&backup-id=web1&backup-time=1790003600",
        { method: "DELETE", headers: { CSRFPreventionToken: session.csrf } },
      );
      return response.status;
    });
    assert.equal(status, 403);
    await page.context().close();
  });

  test("a token made in the UI, granted a role in the ACL editor, works from the CLI", async () => {
    const page = await newPage(browser);
    await logIn(page, cairn.url, "admin@pbs");
    await page.getByRole("link", { name: "Access control" }).click();
    await page.getByRole("link", { name: "API tokens" }).click();
    await page.getByLabel("User", { exact: true }).selectOption("admin@pbs");
    await page.getByRole("button", { name: "Add token" }).click();
    await page.getByLabel("Token name").fill("ci");
    await page.getByRole("dialog").getByRole("button", { name: "Add" }).click();
    const secretField = page.getByTestId("token-secret");
    await secretField.waitFor();
    const secret = await secretField.inputValue();
    assert.match(secret, /^[0-9a-f-]{36}$/);
    await page.getByRole("button", { name: "Copy" }).click();
    await page.getByRole("dialog").getByRole("status").waitFor();
    await screenshot(page, "token-secret");
    await page.getByRole("button", { name: "Done" }).click();
    await page.getByRole("cell", { name: "admin@pbs!ci", exact: true }).waitFor();
    // A token holds no more than its own ACL grants it.
    await page.getByRole("link", { name: "Permissions", exact: true }).click();
    await page.getByRole("button", { name: "Grant a role" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Path").fill("/datastore/store1");
    await dialog.getByLabel("User or token").fill("admin@pbs!ci");
    await dialog.getByRole("combobox", { name: "Role" }).selectOption("DatastoreBackup");
    await dialog.getByRole("button", { name: "Grant" }).click();
    await page.getByRole("cell", { name: "admin@pbs!ci", exact: true }).waitFor();
    await screenshot(page, "access-acl");
    const data = path.join(cairn.root, "data");
    const out = JSON.parse(cairn.remote("admin@pbs!ci", secret, "store1", ["backup", "--backup-id", "token-made", `root.pxar:${data}`]));
    assert.ok(out, "the backup answered");
    await page.goto(`${cairn.url}/#/datastore/store1/content`);
    await page.getByRole("button", { name: "host/token-made" }).waitFor();
    // The effective permissions of the token: what the ACL editor granted.
    await page.goto(`${cairn.url}/#/access/effective`);
    await page.getByLabel("User or token").fill("admin@pbs!ci");
    await page.getByRole("button", { name: "Show" }).click();
    await page.getByRole("cell", { name: /Datastore.Backup/ }).first().waitFor();
    await page.context().close();
  });

  test("an expired session asks for the login again and keeps the page", async () => {
    const page = await newPage(browser);
    await logIn(page, cairn.url, "admin@pbs");
    await page.goto(`${cairn.url}/#/tasks`);
    await page.getByLabel("Type contains").fill("garbage");
    await page.context().clearCookies();
    await page.getByLabel("Datastore").fill("store1");  // the next refresh meets a 401
    await page.getByRole("heading", { name: "Your session has ended" }).waitFor({ timeout: 30_000 });
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Your session has ended" }).waitFor({ state: "detached" });
    assert.equal(await page.getByLabel("Type contains").inputValue(), "garbage");
    assert.equal(await page.getByLabel("Datastore").inputValue(), "store1");
    await page.getByRole("cell", { name: /Garbage collection store1/ }).first().waitFor();
    await page.context().close();
  });

  test("a group of 10,000 snapshots renders at once and scrolls to its oldest", async () => {
    const page = await newPage(browser);
    await logIn(page, cairn.url, "admin@pbs");
    await page.goto(`${cairn.url}/#/datastore/store1/content`);
    await page.getByRole("button", { name: "host/many" }).waitFor();
    const started = Date.now();
    await page.getByRole("button", { name: "host/many" }).click();
    await page.getByRole("cell", { name: /^2021-02-20 / }).first().waitFor({ timeout: 60_000 });
    const firstRender = Date.now() - started;
    console.log(`10,000 snapshots: first rows shown ${firstRender} ms after the click (list fetched and rendered)`);
    const rows = await page.locator(".virtual tbody tr:not(.spacer)").count();
    assert.ok(rows < 100, `only the rows in view are in the DOM (${rows})`);
    await page.locator(".virtual").evaluate((element) => (element.scrollTop = element.scrollHeight));
    await page.getByRole("cell", { name: /^2020-01-01 0\d:00:00$/ }).first().waitFor();
    await screenshot(page, "content-10000");
    await page.context().close();
  });

  test("the main pages have no serious accessibility violations", async () => {
    const page = await newPage(browser);
    await page.goto(cairn.url);
    await page.getByLabel("User name").waitFor();
    const found = { login: await seriousViolations(page) };
    await logIn(page, cairn.url, "admin@pbs");
    for (const [name, route, ready] of [
      ["dashboard", "#/dashboard", "Running tasks"],
      ["datastores", "#/datastores", "Datastores"],
      ["summary", "#/datastore/store1", "Last garbage collection"],
      ["content", "#/datastore/store1/content", "Backup groups"],
      ["tasks", "#/tasks", "Tasks"],
      ["users", "#/access/users", "Access control"],
      ["acl", "#/access/acl", "Access control"],
      ["s3", "#/s3", "S3 endpoints"],
    ]) {
      await page.goto(`${cairn.url}/${route}`);
      await page.getByRole("heading", { name: ready }).first().waitFor();
      await page.waitForLoadState("networkidle");
      found[name] = await seriousViolations(page);
    }
    for (const [name, violations] of Object.entries(found)) {
      assert.deepEqual(violations, [], `${name}: ${JSON.stringify(violations, null, 1)}`);
    }
    await page.context().close();
  });

  test("the first page loads at most 300 KiB of compressed script", async () => {
    const page = await newPage(browser);
    let scriptBytes = 0;
    page.on("response", async (response) => {
      if (response.request().resourceType() !== "script") return;
      const headers = await response.allHeaders();
      assert.equal(headers["content-encoding"], "gzip");
      scriptBytes += Number(headers["content-length"]);
    });
    await page.goto(cairn.url);
    await page.getByLabel("User name").waitFor();
    await page.waitForLoadState("networkidle");
    console.log(`first page: ${(scriptBytes / 1024).toFixed(1)} KiB of gzip-compressed script`);
    assert.ok(scriptBytes > 0 && scriptBytes <= 300 * 1024, `${scriptBytes} bytes`);
    await page.context().close();
  });
});
