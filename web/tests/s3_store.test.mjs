// An S3 datastore made through the UI's forms (endpoint, then datastore on a bucket chosen
// from the endpoint's list) on a real moto server, a CLI backup into it seen in the content
// view, maintenance read-only refusing a backup, and a refresh from the bucket.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { Cairn, launchBrowser, logIn, newPage, required, screenshot } from "./harness.mjs";

describe("S3 datastore through the UI", () => {
  let cairn;
  let browser;
  let page;
  let moto;
  const bucket = `ui-bucket-${process.pid}`;

  before(async () => {
    moto = JSON.parse(fs.readFileSync(path.join(required("CAIRN_S3_PEERS"), "moto.json"), "utf8"));
    // moto checks no signatures: a bare PUT makes the bucket.
    const made = await fetch(`${moto.endpoint}/${bucket}`, { method: "PUT" });
    assert.equal(made.status, 200, await made.text());
    cairn = new Cairn();
    cairn.createUser("admin@pbs", "Admin", "/");
    await cairn.startServer();
    browser = await launchBrowser();
    page = await newPage(browser);
    await logIn(page, cairn.url, "admin@pbs");
  });

  after(async () => {
    await browser?.close();
    await cairn?.stop();
  });

  test("an S3 endpoint is added and checked through its form", async () => {
    await page.getByRole("link", { name: "S3 endpoints" }).click();
    await page.getByRole("button", { name: "Add endpoint" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Id").fill("moto");
    await dialog.getByLabel("Endpoint").fill(moto.endpoint);
    await dialog.getByLabel("Region").fill(moto.region);
    await dialog.getByLabel("Access key").fill(moto.access_key);
    await dialog.getByLabel("Secret key").fill(moto.secret_key);
    await dialog.getByLabel("Path-style addressing").check();
    // A bad number is refused next to its field, and what was typed stays.
    await dialog.getByLabel("PUT requests per second").fill("many");
    await dialog.getByRole("button", { name: "Add" }).click();
    await dialog.locator(".field-error").first().waitFor();
    assert.equal(await dialog.getByLabel("Endpoint").inputValue(), moto.endpoint);
    await dialog.getByLabel("PUT requests per second").fill("");
    await dialog.getByRole("button", { name: "Add" }).click();
    await page.getByRole("cell", { name: "moto", exact: true }).waitFor();
    await screenshot(page, "s3-endpoints");
    await page.getByRole("button", { name: "Check moto" }).click();
    await page.getByRole("dialog").getByLabel("Bucket").fill(bucket);
    await page.getByRole("dialog").getByRole("button", { name: "Check" }).click();
    await page.getByText("Every check passed").waitFor({ timeout: 60_000 });
    await page.getByRole("dialog").getByRole("button", { name: "Close" }).click();
    // The secret is never sent back.
    const listed = JSON.parse(cairn.run(["--output-format", "json", "s3", "endpoint", "list"]));
    assert.equal(listed[0]["secret-key"], undefined);
  });

  test("a datastore is created on a bucket chosen from the endpoint's list", async () => {
    await page.getByRole("link", { name: "Datastores" }).click();
    await page.getByRole("button", { name: "Create datastore" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name").fill("s3store");
    await dialog.getByLabel("Datastore type").selectOption("s3");
    await dialog.getByLabel("Local cache path").fill(path.join(cairn.root, "s3cache"));
    await dialog.getByLabel("Bucket", { exact: true }).selectOption(bucket);
    await screenshot(page, "datastore-create");
    await dialog.getByRole("button", { name: "Create" }).click();
    await page.getByTestId("task-log").filter({ hasText: "TASK OK" }).waitFor({ timeout: 120_000 });
  });

  test("a CLI backup into it shows in the content view", async () => {
    const data = path.join(cairn.root, "data");
    fs.mkdirSync(data);
    fs.writeFileSync(path.join(data, "notes.txt"), "into the bucket\n");
    cairn.run(["backup", "--store", "s3store", "--backup-id", "s3host", "--backup-time", "1790000000", `root.pxar:${data}`]);
    await page.goto(`${cairn.url}/#/datastore/s3store/content`);
    await page.getByRole("button", { name: "host/s3host" }).click();
    await page.getByRole("cell", { name: /2026-09-21/ }).first().waitFor();
  });

  test("maintenance read-only refuses a backup; a refresh from the bucket runs as a task", async () => {
    await page.goto(`${cairn.url}/#/datastore/s3store`);
    await page.getByRole("combobox", { name: "Maintenance mode" }).selectOption("read-only");
    await page.getByLabel("Message to users").fill("disk swap");
    await page.getByRole("button", { name: "Set maintenance mode" }).click();
    await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    const data = path.join(cairn.root, "data");
    assert.throws(
      () => cairn.run(["backup", "--store", "s3store", "--backup-id", "s3host", `root.pxar:${data}`]),
      /read-only|maintenance/,
    );
    await page.goto(`${cairn.url}/#/datastores`);
    await page.getByRole("cell", { name: "read-only" }).waitFor();
    await page.goto(`${cairn.url}/#/datastore/s3store`);
    await page.getByRole("combobox", { name: "Maintenance mode" }).selectOption("none");
    await page.getByRole("button", { name: "Set maintenance mode" }).click();
    await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    await screenshot(page, "datastore-options");
    await page.getByRole("button", { name: "Refresh from bucket" }).click();
    await page.getByTestId("task-log").filter({ hasText: "TASK OK" }).waitFor({ timeout: 120_000 });
    cairn.run(["backup", "--store", "s3store", "--backup-id", "s3host", `root.pxar:${data}`]);
    // The dashboard counts (the refresh listed and read the bucket) what the store asked of the bucket.
    await page.goto(`${cairn.url}/#/dashboard`);
    const row = page.getByRole("table", { name: "S3 requests by datastore" }).getByRole("row", { name: /^s3store/ });
    await row.waitFor();
    const cells = await row.getByRole("cell").allInnerTexts();
    const requests = cells.slice(1, 7).reduce((sum, text) => sum + Number(text.replace(/,/g, "")), 0);
    assert.ok(requests > 0, `requests counted (${cells.join(" | ")})`);
    await screenshot(page, "dashboard-s3");
  });
});
