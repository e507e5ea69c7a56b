/**
 * Which execution provider ran each node, read from onnxruntime's profile of one run. onnxruntime keeps shape
 * arithmetic (Shape, Gather on shapes, Range, …) on the CPU provider by design; an op that the GPU provider has no
 * kernel for lands there too, and then every run copies its inputs to the host and back. /status shows the CPU ops
 * so an operator can tell the two apart (the profile names op types, not why they were placed).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Placement } from "./session-protocol.ts";

interface ProfileEvent {
  readonly cat?: string;
  readonly name?: string;
  readonly args?: { readonly provider?: string; readonly op_name?: string };
}

export interface PlacementProfile {
  /** `profileFilePrefix` for the sessions to profile. */
  readonly prefix: string;
  readonly done: boolean;
  /** Ends profiling on `sessions` and reads their profiles (once). */
  collect(sessions: readonly { endProfiling(): void }[], provider: string): void;
  /** Removes the profile directory when no run will come (the session did not load). */
  discard(): void;
  result(): Placement | undefined;
}

export function profilePlacement(): PlacementProfile {
  const dir = mkdtempSync(join(tmpdir(), "ofa-profile-"));
  let placement: Placement | undefined;
  let done = false;
  return {
    prefix: join(dir, "run"),
    get done() {
      return done;
    },
    collect(sessions, provider) {
      done = true;
      try {
        for (const s of sessions) s.endProfiling();
        const events = readdirSync(dir).flatMap((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as ProfileEvent[]);
        placement = summarisePlacement(events, provider);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    discard() {
      done = true;
      rmSync(dir, { recursive: true, force: true });
    },
    result: () => placement,
  };
}

/** Node placements of a profile: one entry per node (a node runs once per session.run; repeats are counted once). */
export function summarisePlacement(events: readonly ProfileEvent[], provider: string): Placement {
  const byNode = new Map<string, { provider: string; op: string }>();
  for (const e of events) {
    if (e.cat !== "Node" || !e.name || !e.args?.provider || !e.args.op_name) continue;
    byNode.set(e.name.replace(/_kernel_time$|_fence_(before|after)$/, ""), { provider: e.args.provider, op: e.args.op_name });
  }
  const cpuOps: Record<string, number> = {};
  let cpuNodes = 0;
  for (const { provider: p, op } of byNode.values()) {
    if (p !== "CPUExecutionProvider") continue;
    cpuNodes++;
    cpuOps[op] = (cpuOps[op] ?? 0) + 1;
  }
  return { provider, nodes: byNode.size, cpuNodes, cpuOps };
}
