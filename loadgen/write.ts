/** Writes report.json, report.html and each plot as plots/<id>.svg into the out dir (created if needed). */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Report } from "./report.ts";
import { renderHtml, renderPlots } from "./report-html.ts";
import { standaloneSvg } from "./svg.ts";

export interface ReportFiles {
  readonly json: string;
  readonly html: string;
}

export async function writeReport(report: Report, outDir: string): Promise<ReportFiles> {
  await mkdir(outDir, { recursive: true });
  const files = reportFiles(outDir);
  await writeFile(files.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(files.html, renderHtml(report));
  await mkdir(join(outDir, "plots"), { recursive: true });
  for (const [id, svg] of Object.entries(renderPlots(report))) await writeFile(join(outDir, "plots", `${id}.svg`), standaloneSvg(svg));
  return files;
}

export function reportFiles(outDir: string): ReportFiles {
  return { json: join(outDir, "report.json"), html: join(outDir, "report.html") };
}

/** Default out dir: loadgen/out/<UTC timestamp>/ beside this module (gitignored), whatever the cwd. */
export function defaultOutDir(now = new Date()): string {
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  return fileURLToPath(new URL(`./out/${stamp}/`, import.meta.url));
}
