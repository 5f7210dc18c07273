// The official TypeScript MCP SDK's Client against modelops-mcp, over one transport (stdio or Streamable
// HTTP). It reports what the client saw at each step as one JSON object on stdout; it judges nothing:
// tests/contract/test_ts_sdk.py asserts every step.
//
// Usage: node ts_sdk_client.mjs CONFIG.json
//   {"transport": "stdio" | "http",
//    "servers": {"main": SERVER, "broken": SERVER},   SERVER: {"command", "args", "env"} or {"url", "token"}
//    "sandbox": "http://127.0.0.1:PORT",               the sandbox's root, for POST /_sandbox/faults
//    "pieces_not_downloaded": "<uuid>"}                a Pieces model that is not downloaded
// "main" has every backend on the sandbox; "broken" has Caila on a closed port and no Tune the Model key.
//
// Run from the SDK's prefix (.ci/.clients/ts-sdk/), where `@modelcontextprotocol/sdk` resolves.

import { readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const sdkVersion = JSON.parse(
  readFileSync(new URL("./node_modules/@modelcontextprotocol/sdk/package.json", import.meta.url), "utf8"),
).version;
const CALL_TIMEOUT_MS = 60_000;
const steps = [];

function transportFor(server) {
  if (config.transport === "stdio") {
    return new StdioClientTransport({ command: server.command, args: server.args, env: server.env, stderr: "inherit" });
  }
  return new StreamableHTTPClientTransport(new URL(server.url), {
    requestInit: { headers: { Authorization: `Bearer ${server.token}` } },
  });
}

async function connect(server) {
  const client = new Client({ name: "modelops-ts-sdk-contract", version: "1.0.0" }, { capabilities: {} });
  await client.connect(transportFor(server));
  // The SDK checks structuredContent against outputSchema only for tools it has listed, as hosts do.
  const listed = await client.listTools();
  return { client, listed };
}

// The error object of a tool error: the text block that holds {"error": {...}} as JSON.
function errorObject(result) {
  for (const block of result.content ?? []) {
    if (block.type !== "text") continue;
    try {
      const parsed = JSON.parse(block.text);
      if (parsed && typeof parsed === "object" && parsed.error && typeof parsed.error === "object") {
        return parsed.error;
      }
    } catch {
      // not JSON: the readable line
    }
  }
  return null;
}

async function call(client, step, name, args, options = {}) {
  const outcome = { step, tool: name };
  try {
    const result = await client.callTool({ name, arguments: args }, undefined, {
      timeout: CALL_TIMEOUT_MS,
      ...options,
    });
    outcome.outcome = "result";
    outcome.isError = result.isError === true;
    outcome.hasStructuredContent = result.structuredContent !== undefined;
    outcome.contentTypes = (result.content ?? []).map((b) => b.type);
    outcome.text = (result.content ?? []).find((b) => b.type === "text")?.text ?? null;
    outcome.error = outcome.isError ? errorObject(result) : null;
    outcome.structuredContent = result.structuredContent ?? null;
  } catch (err) {
    // A JSON-RPC error (McpError) or any other throw: what a host would show instead of the tool's answer.
    outcome.outcome = "jsonrpc_error";
    outcome.code = err?.code ?? null;
    outcome.message = String(err?.message ?? err);
  }
  steps.push(outcome);
  return outcome;
}

async function addFault(fault) {
  const answer = await fetch(`${config.sandbox}/_sandbox/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(fault),
  });
  if (answer.status !== 201) throw new Error(`fault not added: ${answer.status} ${await answer.text()}`);
}

async function main() {
  const { client, listed } = await connect(config.servers.main);
  const version = client.getServerVersion();
  steps.push({
    step: "tools/list",
    outcome: "result",
    count: listed.tools.length,
    names: listed.tools.map((t) => t.name),
    withOutputSchema: listed.tools.filter((t) => t.outputSchema).length,
    // Output schemas that write a repeat once and refer to it (#/$defs/…): the SDK must resolve those.
    withDefs: listed.tools.filter((t) => t.outputSchema?.$defs).map((t) => t.name),
    server: version?.name ?? null,
  });

  // One successful call per backend: the SDK validates each structuredContent against its outputSchema.
  await call(client, "ok:caila", "caila_list_datasets", { account: "demo" });
  await call(client, "ok:training", "training_start_session", { force_restart: 1 });
  await call(client, "ok:pieces", "pieces_list_models", {});
  await call(client, "ok:tunethemodel", "tunethemodel_list_public_models", {});
  await call(client, "ok:datarobot", "datarobot_list_execution_environments", {});

  // One call per error kind, each of a tool with an outputSchema.
  await call(client, "error:validation", "caila_fit_service", {
    account: "demo",
    model: "text-classifier",
    datasetId: "five hundred and one",
  });
  await call(client, "error:auth", "training_monitor", { key: "not-the-session-key" });
  await call(client, "error:not_found", "caila_fit_service", {
    account: "demo",
    model: "text-classifier",
    datasetId: 99999,
  });
  await call(client, "error:conflict", "pieces_load_model", { model: config.pieces_not_downloaded });
  await addFault({
    backend: "caila",
    method: "POST",
    path: "/fit$",
    status: 429,
    body: { message: "Too many fits" },
    headers: { "Retry-After": "120" },
    times: 1,
  });
  await call(client, "error:rate_limited", "caila_fit_service", {
    account: "demo",
    model: "text-classifier",
    datasetId: 501,
  });
  await addFault({ backend: "tunethemodel", method: "GET", path: "/v0/models$", status: 500, body: { error: "database is down" }, times: 1 });
  await call(client, "error:backend", "tunethemodel_list_models", {});
  // The server runs with --read-timeout 1: an answer five seconds late is a timeout (never retried).
  await addFault({ backend: "datarobot", method: "GET", path: "/executionEnvironments/$", delay_s: 5, times: 1 });
  await call(client, "error:timeout", "datarobot_list_execution_environments", {});

  // A job: started, followed with jobs_wait (with progress notifications), read as a job:// resource.
  const started = await call(client, "job:start", "caila_fit_service", {
    account: "demo",
    model: "text-classifier",
    datasetId: 501,
  });
  const handle = started.structuredContent?.job;
  if (handle) {
    let notifications = 0;
    const waited = await call(client, "job:wait", "jobs_wait", { job_id: handle.id, timeout_s: 60 }, {
      onprogress: () => {
        notifications += 1;
      },
      resetTimeoutOnProgress: true,
    });
    waited.progressNotifications = notifications;
    const read = { step: "job:read", uri: handle.uri };
    try {
      const resource = await client.readResource({ uri: handle.uri });
      read.outcome = "result";
      read.contents = resource.contents.map((c) => ({
        uri: c.uri,
        mimeType: c.mimeType,
        json: c.text !== undefined ? JSON.parse(c.text) : null,
      }));
    } catch (err) {
      read.outcome = "jsonrpc_error";
      read.code = err?.code ?? null;
      read.message = String(err?.message ?? err);
    }
    steps.push(read);
  }
  await client.close();

  // The server whose Caila is unreachable and whose Tune the Model has no key.
  const broken = await connect(config.servers.broken);
  await call(broken.client, "error:network", "caila_list_datasets", { account: "demo" });
  await call(broken.client, "error:config", "tunethemodel_list_models", {});
  await broken.client.close();
}

try {
  await main();
} catch (err) {
  steps.push({ step: "crash", outcome: "exception", message: String(err?.stack ?? err) });
}
process.stdout.write(
  JSON.stringify({ transport: config.transport, sdk: sdkVersion, node: process.version, steps }) + "\n",
);
process.exit(0);
