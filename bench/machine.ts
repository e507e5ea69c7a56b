/**
 * The machine and software a result came from. Absolute numbers only mean something next to these lines; ratios
 * measured in one run travel better, but the core count and the neighbours' load still shape them.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, totalmem, loadavg } from "node:os";
import { createRequire } from "node:module";
import sharp from "sharp";
import { natsServerBinary } from "../test/harness/nats-server.ts";

export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  readonly ramBytes: number;
  readonly kernel: string;
  readonly node: string;
  readonly onnxruntimeNode: string;
  readonly sharp: string;
  readonly libvips: string;
  readonly natsServer: string;
  readonly natsJs: string;
  /** 1/5/15-minute load averages when the run started: other tenants of a shared machine show up here. */
  readonly loadAtStart: readonly number[];
}

const require = createRequire(import.meta.url);

function packageVersion(name: string): string {
  try {
    // Some packages do not export package.json; read it next to their resolved entry instead.
    const entry = require.resolve(name);
    const root = entry.slice(0, entry.lastIndexOf(`node_modules/${name}/`) + `node_modules/${name}/`.length);
    return (JSON.parse(readFileSync(`${root}package.json`, "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

function command(file: string, args: string[]): string {
  try {
    return execFileSync(file, args, { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

function natsServerVersion(): string {
  try {
    return command(natsServerBinary(), ["--version"]).replace(/^nats-server:\s*/, "");
  } catch (err) {
    return (err as Error).message;
  }
}

export function describeMachine(): Machine {
  return {
    cpuModel: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    ramBytes: totalmem(),
    kernel: command("uname", ["-r"]),
    node: process.version,
    onnxruntimeNode: packageVersion("onnxruntime-node"),
    sharp: sharp.versions.sharp ?? "unknown",
    libvips: sharp.versions.vips,
    natsServer: natsServerVersion(),
    natsJs: packageVersion("@nats-io/transport-node"),
    loadAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
