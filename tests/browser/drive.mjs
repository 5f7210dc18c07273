// Drives the jobs dashboard in Debian's Chromium: a minimal ext-apps host page (host.js) on the MCP server's
// origin, the dashboard in its sandboxed frame, the sandbox's clock and faults moved over its control API.
// Run by tests/test_dashboard_browser.py, which starts `modelops-mcp serve --sandbox --transport http` and
// checks the report this writes (and the sandbox's request log) afterwards.
//
// env: MCP_URL, MCP_TOKEN, BROWSER_DEPS (the npm install of .ci/browser.sh), REPORT (a JSON file to write),
// SCREENSHOT (a PNG to write mid-training), DATA_DIR (the example dataset), CHROMIUM (default /usr/bin/chromium)
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name}`);
  return value;
};
const deps = env("BROWSER_DEPS");
const require = createRequire(join(deps, "package.json"));
const { chromium } = require("playwright-core");
const esbuild = require("esbuild");

const here = dirname(fileURLToPath(import.meta.url));
const mcpUrl = new URL(env("MCP_URL"));
const report = { steps: [], epochs: [], calls: [] };
const step = (what) => {
  report.steps.push(what);
  console.error(`drive: ${what}`);
};

// Bounded waits only: a condition, polled, with a deadline that fails loudly.
async function until(what, check, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const bundle = await esbuild.build({
  entryPoints: [join(here, "host.js")],
  bundle: true,
  format: "iife",
  platform: "browser",
  target: "es2022",
  write: false,
  nodePaths: [join(deps, "node_modules")],
  logLevel: "warning",
});
const hostJs = bundle.outputFiles[0].text;
const hostPage = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>test host</title></head>
<body style="margin:0;padding:16px;font:14px system-ui;background:#fafaf9">
<div id="stage" style="max-width:960px"></div><script src="/__test_host__/host.js"></script></body></html>`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
let failed = null;
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 900 }, deviceScaleFactor: 1 });
  const consoleErrors = [];
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(`${m.text()} (${m.location().url}:${m.location().lineNumber})`); });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  // The host page and its script are served by the browser itself on the server's origin; /mcp is the server.
  await page.route(`${mcpUrl.origin}/__test_host__/**`, (route) => {
    const isScript = route.request().url().endsWith("/host.js");
    return route.fulfill({ contentType: isScript ? "text/javascript" : "text/html", body: isScript ? hostJs : hostPage });
  });
  await page.goto(`${mcpUrl.origin}/__test_host__/index.html`);
  const call = (name, args) => page.evaluate(([n, a]) => window.host.call(n, a), [name, args]);
  const ok = async (name, args) => {
    const result = await call(name, args);
    if (result.isError) throw new Error(`${name}: ${JSON.stringify(result.content)}`);
    return result.structuredContent;
  };

  const listed = await page.evaluate(([u, t]) => window.host.connect(u, t), [mcpUrl.href, env("MCP_TOKEN")]);
  report.declared = Object.fromEntries(listed.filter((t) => t.meta).map((t) => [t.name, t.meta]));
  step("connected as an MCP Apps host");

  // The sandbox behind `serve --sandbox`: its address from the backends resource, its control API beside it.
  const backends = JSON.parse((await page.evaluate((u) => window.host.read(u), "modelops://backends")).contents[0].text);
  const control = `${new URL(backends.find((b) => b.backend === "training").base_url).origin}/_sandbox`;
  report.control = control;
  const post = async (path, body) => {
    const response = await fetch(control + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  };

  // A job that fails: its status route answers 404 (fault injection), so the server ends it failed.
  const fit = await ok("caila_fit_service", { account: "demo", model: "text-classifier", datasetId: 501, configId: 301 });
  await post("/faults", { backend: "caila", method: "GET", path: "/job/\\d+$", status: 404 });
  report.failing = fit.job.id;
  step("started a Caila fit whose status route answers 404");

  // A training job, four epochs of 30 simulated seconds each.
  const data = env("DATA_DIR");
  await ok("training_start_session", {});
  await ok("training_update_config", { model: "numenta/sparse-bert", epochs: 4, eval_metrics: ["accuracy", "f1"], seed: 7 });
  await ok("training_upload_dataset", { train_file: join(data, "sentiment-train.csv"), test_file: join(data, "sentiment-test.csv") });
  const pre = await ok("training_preprocess", {});
  await post("/clock/advance", { seconds: 10 });
  await until("preprocessing to complete", async () => (await ok("jobs_wait", { job_id: pre.job.id, timeout_s: 5 })).job.status === "completed");
  const training = await ok("training_start_training", {});
  report.training = training.job.id;
  step("started a training of 4 epochs");

  // The agent asks about the training: the host renders the dashboard for that tool call.
  report.opened = await page.evaluate(([n, a]) => window.host.open(n, a), ["jobs_get", { job_id: training.job.id }]);
  const view = page.frameLocator("#view");
  await view.locator(`tr[data-job="${training.job.id}"]`).waitFor({ timeout: 20000 });
  step("the dashboard lists the jobs");

  // The failing job shows its error.
  await view.locator(`tr[data-job="${fit.job.id}"][data-status="failed"]`).waitFor({ timeout: 20000 });
  await view.locator(`tr[data-job="${fit.job.id}"]`).click();
  report.error = await view.locator('[data-role="error"]').textContent({ timeout: 20000 });
  report.failedStatus = await view.locator('[data-role="status"]').textContent();
  step(`the failed job shows its error: ${report.error}`);

  // Back to the training: one point more on the loss curve per epoch.
  await view.locator(`tr[data-job="${training.job.id}"]`).click();
  const points = (name) => view.locator(`[data-series="${name}"]`).getAttribute("data-points", { timeout: 500 }).then(Number, () => 0);
  for (let epoch = 1; epoch <= 3; epoch++) {
    await post("/clock/advance", { seconds: 30 });
    const loss = await until(`epoch ${epoch} on the loss curve`, async () => ((await points("loss")) >= epoch ? points("loss") : 0));
    report.epochs.push({ epoch, loss, accuracy: await points("accuracy"), circles: await view.locator('[data-series="loss"] circle').count() });
    step(`epoch ${epoch}: ${loss} loss points`);
    if (epoch === 2) {
      await page.waitForTimeout(300); // let the frame take its new height before the picture
      await page.locator("#stage").screenshot({ path: env("SCREENSHOT") });
      report.screenshot = true;
    }
  }
  report.timeline = await view.locator('[data-role="timeline"] li').count();
  report.message = await view.locator('[data-role="message"]').textContent();

  // Cancel from the view: a tools/call of jobs_cancel through the host, which the server confirms with the
  // host's user first. Declined: nothing is sent. Then accepted.
  const stops = async () => (await (await fetch(`${control}/requests?backend=training`)).json()).requests
    .filter((r) => r.method === "POST" && r.path.includes("/training/stop/")).length;
  await page.evaluate(() => window.host.answer("decline"));
  await view.locator('[data-role="cancel"]').click();
  report.declinedNote = await until("the declined cancel's answer", async () => {
    const note = await view.locator('[data-role="cancel-note"]').textContent({ timeout: 500 }).catch(() => "");
    return note && !note.startsWith("asking") ? note : "";
  });
  report.stopsAfterDecline = await stops();
  step(`declined: ${report.declinedNote}`);
  await page.evaluate(() => window.host.answer("accept"));
  await view.locator('[data-role="cancel"]').click();
  report.cancelNote = await until("the cancel's answer", async () => {
    const note = await view.locator('[data-role="cancel-note"]').textContent({ timeout: 500 }).catch(() => "");
    return note && !note.startsWith("asking") ? note : "";
  });
  report.cancelledStatus = await until("the job to show cancelled", async () => {
    const status = await view.locator(`tr[data-job="${training.job.id}"]`).getAttribute("data-status");
    return status === "cancelled" ? status : "";
  });
  step(`cancelled from the view: ${report.cancelNote}`);

  // A view opened by a call that failed says why.
  await page.evaluate(([n, a]) => window.host.open(n, a, "second"), ["jobs_get", { job_id: "nosuchjob" }]);
  report.openedOnError = await page.frameLocator("#second").locator("#banner").textContent({ timeout: 20000 });
  step(`a view opened by a failed call: ${report.openedOnError}`);

  report.calls = await page.evaluate(() => window.host.calls);
  report.questions = await page.evaluate(() => window.host.questions);
  report.consoleErrors = consoleErrors;
} catch (error) {
  failed = error;
  report.failure = String(error && error.stack || error);
} finally {
  await browser.close();
  writeFileSync(env("REPORT"), JSON.stringify(report, null, 1));
}
if (failed) {
  console.error(failed);
  process.exit(1);
}
