// The official MCP TypeScript SDK client (@modelcontextprotocol/sdk 1.x) against lanying-mcp on the sandbox.
//
//   node tools/interop/ts_client.mjs --modules DIR --stdio PYTHON [ARGS...]
//   node tools/interop/ts_client.mjs --modules DIR --url http://127.0.0.1:PORT/mcp --user NAME
//
// DIR holds node_modules/@modelcontextprotocol/sdk (tools/interop.sh installs it in .conformance/).
// Over one connection it lists the tools, registers a user, reads it back with list_users, runs
// explain_error through call_tool, and sends a call with missing arguments. The SDK validates each
// structuredContent against the tool's outputSchema; every step also checks what the result says.
// Prints one line per step ("ok ..." or "FAIL ...") and exits 1 when a step failed.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const argv = process.argv.slice(2);
const option = (name) => {
  const i = argv.indexOf(name);
  return i === -1 ? undefined : argv[i + 1];
};
const modules = option("--modules");
const url = option("--url");
const stdioAt = argv.indexOf("--stdio");
if (!modules || (!url && stdioAt === -1)) {
  console.error("usage: ts_client.mjs --modules DIR (--url URL --user NAME | --stdio COMMAND [ARGS...])");
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(modules), "package.json"));
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const sdkManifest = path.join(path.resolve(modules), "node_modules/@modelcontextprotocol/sdk/package.json");
const sdkVersion = JSON.parse(readFileSync(sdkManifest, "utf8")).version;

let transport;
let user;
if (url) {
  const { StreamableHTTPClientTransport } = require("@modelcontextprotocol/sdk/client/streamableHttp.js");
  transport = new StreamableHTTPClientTransport(new URL(url));
  user = option("--user") ?? "ts_http_user";
} else {
  const { StdioClientTransport } = require("@modelcontextprotocol/sdk/client/stdio.js");
  const [command, ...args] = argv.slice(stdioAt + 1);
  // stderr carries the server's start-up lines; stdout must hold nothing but protocol.
  transport = new StdioClientTransport({ command, args, stderr: "ignore" });
  user = "ts_stdio_user";
}
const where = url ? "http" : "stdio";

let failures = 0;
async function step(name, run) {
  try {
    const note = await run();
    console.log(`ok    ts-sdk ${sdkVersion} ${where} ${name}${note ? ` (${note})` : ""}`);
  } catch (error) {
    failures += 1;
    console.log(`FAIL  ts-sdk ${sdkVersion} ${where} ${name}: ${error?.message ?? error}`);
  }
}
function expect(condition, what, value) {
  if (!condition) throw new Error(`${what}; got ${JSON.stringify(value)?.slice(0, 300)}`);
}
function text(result) {
  return (result.content ?? []).filter((c) => c.type === "text").map((c) => c.text).join("\n");
}

const client = new Client({ name: "lanying-mcp-interop", version: "1.0.0" });
const deadline = setTimeout(() => {
  console.log(`FAIL  ts-sdk ${where}: no answer within 120 s`);
  process.exit(1);
}, 120_000);

try {
  await client.connect(transport);
  await step("initialize", async () => {
    const info = client.getServerVersion();
    expect(info?.name === "lanying-mcp", "serverInfo.name must be lanying-mcp", info);
    expect(client.getServerCapabilities()?.tools, "the server must declare tools", client.getServerCapabilities());
    return `${info.name} ${info.version}`;
  });
  await step("tools/list", async () => {
    const { tools } = await client.listTools();
    const names = new Set(tools.map((t) => t.name));
    for (const wanted of ["register_user", "list_users", "call_tool", "search_tools"]) {
      expect(names.has(wanted), `${wanted} must be listed`, [...names]);
    }
    const untyped = tools.filter((t) => t.outputSchema?.type !== "object").map((t) => t.name);
    expect(untyped.length === 0, "every tool must declare an object outputSchema", untyped);
    return `${tools.length} tools`;
  });
  let userId;
  await step("tools/call register_user", async () => {
    const result = await client.callTool({ name: "register_user", arguments: { username: user, password: "pw-interop-9" } });
    expect(!result.isError, "register_user must succeed", result);
    userId = result.structuredContent?.data?.user_id;
    expect(Number.isInteger(userId), "structuredContent.data.user_id must be an integer", result.structuredContent);
    return `user_id ${userId}`;
  });
  await step("tools/call list_users (read)", async () => {
    const result = await client.callTool({ name: "list_users", arguments: { page_size: 100 } });
    expect(!result.isError, "list_users must succeed", result);
    const rows = result.structuredContent?.data;
    expect(Array.isArray(rows), "structuredContent.data must be a list", result.structuredContent);
    expect(rows.some((r) => r.user_id === userId), `the new user ${userId} must be listed`, rows.slice(0, 5));
    expect(text(result).length > 0, "the result must carry text for the model", result.content);
    return `${rows.length} users`;
  });
  await step("tools/call call_tool explain_error", async () => {
    const result = await client.callTool({
      name: "call_tool",
      arguments: { name: "explain_error", arguments: { code: 20013 } },
    });
    expect(!result.isError, "call_tool must succeed", result);
    const row = result.structuredContent?.data?.[0];
    expect(row?.code === 20013 && typeof row.meaning === "string" && row.meaning, "data[0] must explain 20013", row);
    return row.meaning.slice(0, 40);
  });
  await step("tools/call register_user without arguments", async () => {
    const result = await client.callTool({ name: "register_user", arguments: {} });
    expect(result.isError === true, "a call with missing arguments must be isError", result);
    const error = result.structuredContent?.error;
    expect(error?.code === "invalid_arguments", "structuredContent.error.code must be invalid_arguments", error);
    expect(/username|password/.test(text(result)), "the error must name the missing argument", text(result));
    return error.code;
  });
} catch (error) {
  failures += 1;
  console.log(`FAIL  ts-sdk ${where}: ${error?.stack ?? error}`);
} finally {
  clearTimeout(deadline);
  await client.close().catch(() => {});
}
process.exit(failures ? 1 : 0);
