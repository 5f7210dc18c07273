// A minimal MCP Apps host for the dashboard's browser test, built on the ext-apps SDK's host side (AppBridge,
// PostMessageTransport) and the official TypeScript client. Bundled by tests/browser/drive.mjs with esbuild;
// the page runs it on the MCP server's own origin, so it needs no CORS from our HTTP transport.
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";

const EXTENSION = "io.modelcontextprotocol/ui";
const MIME = "text/html;profile=mcp-app";
// What the spec (2026-01-26, "Host Behavior") has a host apply to a resource that declares no `ui.csp`:
// the view must work with no network at all.
const DEFAULT_CSP =
  "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' data:; media-src 'self' data:; connect-src 'none'; object-src 'none'";

let client = null;
let tools = [];
const calls = []; // every tools/call the view made through the bridge, in order
// The user of this host: the server's confirmation questions (elicitation), and the answers queued for them.
const questions = [];
const answers = [];

async function connect(url, token) {
  client = new Client(
    { name: "modelops-test-host", version: "1.0.0" },
    { capabilities: { elicitation: { form: {} }, extensions: { [EXTENSION]: { mimeTypes: [MIME] } } } },
  );
  client.setRequestHandler("elicitation/create", async (request) => {
    questions.push(request.params.message);
    return answers.shift() === "accept" ? { action: "accept", content: { confirm: true } } : { action: "decline" };
  });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  tools = (await client.listTools()).tools;
  return tools.map((t) => ({ name: t.name, meta: t._meta ?? null }));
}

async function call(name, args) {
  return client.callTool({ name, arguments: args });
}

async function read(uri) {
  return client.readResource({ uri });
}

// What a host does when the agent calls a tool that declares a view: fetch the ui:// resource, render it in a
// sandboxed frame, hand it the call's input and result, and serve its own tool calls through the client.
async function open(name, args, id = "view") {
  const tool = tools.find((t) => t.name === name);
  const uri = tool?._meta?.ui?.resourceUri;
  if (!uri) throw new Error(`${name} declares no view`);
  const [content] = (await client.readResource({ uri })).contents;
  if (content.mimeType !== MIME) throw new Error(`unexpected mime type ${content.mimeType}`);
  const policy = `<meta http-equiv="Content-Security-Policy" content="${DEFAULT_CSP}">`;
  const html = content.text.replace(/<head>/i, `<head>${policy}`);

  const frame = document.createElement("iframe");
  frame.id = id;
  frame.setAttribute("sandbox", "allow-scripts");
  frame.style.cssText = "width: 100%; height: 480px; border: 1px solid #d6d3d1; border-radius: 8px;";
  document.getElementById("stage").append(frame);

  const bridge = new AppBridge(
    null,
    { name: "modelops-test-host", version: "1.0.0" },
    { serverTools: {}, logging: {} },
    { hostContext: { theme: "light", displayMode: "inline", platform: "web", containerDimensions: { maxHeight: 4000 } } },
  );
  bridge.oncalltool = async (params) => {
    calls.push({ name: params.name, arguments: params.arguments ?? {} });
    return client.callTool(params);
  };
  bridge.onreadresource = async (params) => client.readResource(params);
  bridge.onsizechange = ({ height }) => {
    if (typeof height === "number") frame.style.height = `${height + 2}px`;
  };
  const initialized = new Promise((resolve) => {
    bridge.oninitialized = resolve;
  });
  await bridge.connect(new PostMessageTransport(frame.contentWindow, frame.contentWindow));
  frame.srcdoc = html;
  await initialized;
  await bridge.sendToolInput({ arguments: args });
  await bridge.sendToolResult(await client.callTool({ name, arguments: args }));
  return { uri, meta: content._meta ?? null };
}

window.host = { connect, call, read, open, calls, questions, answer: (a) => answers.push(a) };
