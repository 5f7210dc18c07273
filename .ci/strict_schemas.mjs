// Compile every tool's inputSchema and outputSchema from a tools/list answer (as the MCP Inspector CLI
// prints it) with Ajv's JSON Schema 2020-12 validator in its strictest mode: unknown keywords, unknown
// formats, ambiguous types, tuples and required names not in properties are all refused. A schema that
// passes here is portable to the strict validators clients use.
//
// Usage: node strict_schemas.mjs tools.json [label]
import fs from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const [file, label = file] = process.argv.slice(2);
const tools = JSON.parse(fs.readFileSync(file, "utf8")).tools ?? [];
if (tools.length === 0) {
  console.error(`${label}: no tools in ${file}`);
  process.exit(1);
}
const refused = [];
for (const tool of tools) {
  for (const key of ["inputSchema", "outputSchema"]) {
    if (!tool[key]) continue;
    const ajv = new Ajv2020({ strict: true, strictTypes: true, strictTuples: true, strictRequired: true, allErrors: true });
    addFormats(ajv);
    try {
      ajv.compile(tool[key]);
    } catch (error) {
      refused.push(`${tool.name}.${key}: ${String(error.message).slice(0, 300)}`);
    }
  }
}
const bytes = Buffer.byteLength(JSON.stringify(tools));
console.log(`${label}: ${tools.length} tools, ${bytes} bytes, ${refused.length} schemas refused by Ajv strict`);
for (const line of refused) console.log(`  ${line}`);
process.exit(refused.length === 0 ? 0 : 1);
