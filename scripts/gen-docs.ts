/**
 * Writes the generated reference docs: docs/config.md (from the settings table) and docs/asyncapi.json (from the
 * protocol schemas). `npm run docs` regenerates them; test/docs checks they match the code.
 */
import { writeFileSync } from "node:fs";
import { SETTINGS, type Setting } from "../src/config/index.ts";
import { asyncApiDocument } from "../src/protocol/index.ts";
import { VERSION } from "../src/supervisor/version.ts";

export function configMarkdown(): string {
  const rows = (SETTINGS as readonly Setting[]).map((s) => {
    const def = s.default === undefined ? "—" : `\`${String(s.default)}\``;
    const choices = s.choices ? ` One of: ${s.choices.join(", ")}.` : "";
    return `| \`${s.env}\` | \`${s.flag}\` | ${def} | ${s.doc}.${choices}${s.secret ? " **Secret**: never logged." : ""} |`;
  });
  return [
    "# Configuration",
    "",
    "Generated from `src/config/settings.ts` by `npm run docs`; a test fails when this page and the code differ.",
    "Precedence: defaults < environment < command-line flags. Every value is validated once at start; all problems are",
    "reported together and the process exits with status 2 before connecting to anything.",
    "",
    "| env | flag | default | meaning |",
    "|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

export function asyncApiJson(): string {
  return `${JSON.stringify(asyncApiDocument(VERSION), null, 2)}\n`;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  writeFileSync(new URL("../docs/config.md", import.meta.url), configMarkdown());
  writeFileSync(new URL("../docs/asyncapi.json", import.meta.url), asyncApiJson());
  console.log("wrote docs/config.md and docs/asyncapi.json");
}
