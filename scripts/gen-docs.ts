/**
 * Writes the generated reference docs: docs/config.md (from the settings table), docs/asyncapi.json (from the
 * protocol schemas) and docs/metrics.md (from the metric definitions). `npm run docs` regenerates them; test/docs checks they match the code.
 */
import { writeFileSync } from "node:fs";
import { SETTINGS } from "../src/config/index.ts";
import { metricCatalogue } from "../src/metrics/catalogue.ts";
import { asyncApiDocument } from "../src/protocol/index.ts";
import { VERSION } from "../src/protocol/version.ts";

export function configMarkdown(): string {
  const rows = SETTINGS.map((s) => {
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

export async function metricsMarkdown(): Promise<string> {
  const catalogue = await metricCatalogue();
  const row = (m: (typeof catalogue)[number]) =>
    `| \`${m.name}\` | ${m.type} | ${m.labels.length ? m.labels.map((l) => `\`${l}\``).join(", ") : "—"} | ${m.help} | ${m.owner} | ${m.aggregator} |`;
  const header = ["| name | type | labels | meaning | from | merged by |", "|---|---|---|---|---|---|"];
  return [
    "# Metrics",
    "",
    "Generated from `src/metrics/definitions.ts` by `npm run docs`; a test fails when this page and the code differ.",
    "`GET /metrics` on the admin port merges the supervisor's registry with every live worker's, and with the counters and",
    "histograms of workers that are gone (restarted, rolled out: `src/metrics/carry.ts`), so no counter falls. \"from\": which process",
    "exports it; \"merged by\": how the values of one series from several processes are combined (`omit`: left out of",
    "the merged output). Histograms also expose `_bucket{le}`, `_sum` and `_count`; Prometheus adds `instance` and `job`",
    "to every series. The alert rules and the dashboard that read these metrics are in `infra/observability/`.",
    "",
    "## Service",
    "",
    ...header,
    ...catalogue.filter((m) => m.service).map(row),
    "",
    "## Node.js process (prom-client defaults, prefix `ofa_`)",
    "",
    ...header,
    ...catalogue.filter((m) => !m.service).map(row),
    "",
  ].join("\n");
}

export function asyncApiJson(): string {
  return `${JSON.stringify(asyncApiDocument(VERSION), null, 2)}\n`;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  writeFileSync(new URL("../docs/config.md", import.meta.url), configMarkdown());
  writeFileSync(new URL("../docs/asyncapi.json", import.meta.url), asyncApiJson());
  writeFileSync(new URL("../docs/metrics.md", import.meta.url), await metricsMarkdown());
  console.log("wrote docs/config.md, docs/asyncapi.json and docs/metrics.md");
}
