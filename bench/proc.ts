/**
 * CPU time and memory of other processes, read from /proc (Linux). The service's supervisor, workers and the
 * nats-server are separate processes, so process.cpuUsage() cannot see them; /proc counts every thread of a process,
 * onnxruntime's pool and sharp's libvips threads included.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** utime/stime are in USER_HZ ticks; ask the system once instead of assuming 100. */
const TICKS_PER_SECOND = userHz();

function userHz(): number {
  try {
    const hz = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return Number.isFinite(hz) && hz > 0 ? hz : 100;
  } catch {
    return 100;
  }
}

/** Resolution of cpuSeconds(): one tick. Windows of several seconds keep its error well under 1 %. */
const CPU_TICK_SECONDS = 1 / TICKS_PER_SECOND;

/** User + system CPU seconds the process has used so far (all threads); undefined once it has exited. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which may itself contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

export interface Memory {
  /** Resident set now. */
  readonly rssBytes: number;
  /** Peak resident set since the process started (VmHWM): catches the model-load peak a sampler would miss. */
  readonly peakRssBytes: number;
}

export function memory(pid: number): Memory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return { rssBytes: kbField(status, "VmRSS") * 1024, peakRssBytes: kbField(status, "VmHWM") * 1024 };
  } catch {
    return undefined;
  }
}

function kbField(status: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
  return match ? Number(match[1]) : 0;
}

/** MemAvailable: what can still be allocated without swapping (there is no swap on the bench machines). */
export function availableMemoryBytes(): number {
  try {
    return kbField(readFileSync("/proc/meminfo", "utf8"), "MemAvailable") * 1024;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** 1-minute load average: how busy the machine was (other tenants) while a section ran. */
export function loadAverage(): number {
  try {
    return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  } catch {
    return Number.NaN;
  }
}
