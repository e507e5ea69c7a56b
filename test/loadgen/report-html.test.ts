import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import sharp from "sharp";
import { runLoad, type Report } from "../../loadgen/index.ts";
import { findChromium, runChromium } from "./fixtures/chromium.ts";
import { SMALL_IMAGES, startStack } from "./fixtures/stack.ts";

const PLOTS = ["latency-over-time", "throughput-over-time", "latency-distribution", "throughput-latency"];
const CHROMIUM_TIMEOUT_MS = 60_000;

/** The series paths of each plot in a DOM dump: plot id → [{ series, declared points, drawn points }]. */
function seriesByPlot(dom: string): Map<string, Array<{ series: string; declared: number; drawn: number }>> {
  const plots = new Map<string, Array<{ series: string; declared: number; drawn: number }>>();
  for (const svg of dom.matchAll(/<svg class="plot" data-plot="([^"]+)"[\s\S]*?<\/svg>/g)) {
    const paths = [...svg[0].matchAll(/<path class="series" data-series="([^"]+)" data-points="(\d+)" d="([^"]*)"/g)].map((m) => ({
      series: m[1]!,
      declared: Number(m[2]),
      drawn: [...m[3]!.matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g)].filter((p) => Number.isFinite(Number(p[1])) && Number.isFinite(Number(p[2]))).length,
    }));
    plots.set(svg[1]!, paths);
  }
  return plots;
}

/** Pixels within `tolerance` per channel of `rgb` in an RGBA screenshot. */
function countColour(data: Buffer, channels: number, rgb: readonly [number, number, number], tolerance = 40): number {
  let n = 0;
  for (let i = 0; i < data.length; i += channels) {
    if (Math.abs(data[i]! - rgb[0]) <= tolerance && Math.abs(data[i + 1]! - rgb[1]) <= tolerance && Math.abs(data[i + 2]! - rgb[2]) <= tolerance) n++;
  }
  return n;
}

test("loadgen report - report.html opened in headless chromium renders every plot with its data", async (t) => {
  findChromium(); // fail first, with the install command, if the browser is missing
  const { url } = await startStack(t, { serviceMs: 20 });
  const outDir = await mkdtemp(join(tmpdir(), "ofa-loadgen-report-"));
  t.after(() => rm(outDir, { recursive: true, force: true }));
  const report = await runLoad({ natsUrl: url, stepRates: [20, 50], stepDurationMs: 1500, sloMs: 200, timeoutMs: 5000, images: SMALL_IMAGES, outDir });

  const saved = JSON.parse(await readFile(join(outDir, "report.json"), "utf8")) as Report;
  assert.equal(saved.accounting.sent, report.accounting.sent);
  assert.equal(saved.phases.length, 2);
  assert.equal(saved.knee?.index, 1, "both steps meet a 200 ms SLO against a 20 ms service: the higher one is the knee");

  const page = pathToFileURL(join(outDir, "report.html")).href;
  const dom = await runChromium(page, ["--dump-dom"], CHROMIUM_TIMEOUT_MS);
  const plots = seriesByPlot(dom);
  assert.deepEqual([...plots.keys()], PLOTS, "all four plots are in the rendered DOM, in order");
  for (const [plot, series] of plots) {
    assert.ok(series.length > 0, `${plot} has series`);
    for (const s of series) assert.equal(s.drawn, s.declared, `${plot}/${s.series}: every declared point is drawn`);
    assert.ok(series.some((s) => s.drawn >= 2), `${plot} has a line of at least two points`);
  }
  assert.match(dom, /sent \d+ = ok \d+ \+ errored 0 \+ timed out 0/);

  const shot = join(outDir, "shot.png");
  await runChromium(page, [`--screenshot=${shot}`, "--window-size=900,2600"], CHROMIUM_TIMEOUT_MS);
  const { data, info } = await sharp(shot).raw().toBuffer({ resolveWithObject: true });
  const stats = await sharp(shot).stats();
  assert.ok(stats.channels.some((c) => c.stdev > 5), "the screenshot is not blank");
  const blue = countColour(data, info.channels, [0x1f, 0x77, 0xb4]);
  const orange = countColour(data, info.channels, [0xff, 0x7f, 0x0e]);
  t.diagnostic(`screenshot ${info.width}×${info.height}: ${blue} p50-blue and ${orange} p99-orange pixels`);
  // A 2 px line across a 680 px plot is over 1 000 pixels; 300 of each colour means lines were painted.
  assert.ok(blue > 300, `p50/ok series painted (${blue} blue pixels)`);
  assert.ok(orange > 300, `p99 series painted (${orange} orange pixels)`);

  // The standalone copies (for READMEs) must be well-formed SVG on their own: librsvg is strict XML.
  for (const id of PLOTS) {
    const png = await sharp(join(outDir, "plots", `${id}.svg`)).png().toBuffer();
    const { channels } = await sharp(png).stats();
    assert.ok(channels.some((c) => c.stdev > 5), `plots/${id}.svg renders to a non-blank image`);
  }
});
