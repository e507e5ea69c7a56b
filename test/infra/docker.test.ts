/**
 * infra/docker, checked without a container engine: the Dockerfiles are multi-stage, install as
 * documented (CPU: onnxruntime's CUDA download skipped; CUDA: fetched), copy only files that
 * exist and that the ignore file lets through, and run `ofa-entail serve` (the README's command);
 * compose.yaml parses, every file it references exists, and its parts agree (ports, grace,
 * Prometheus rules, Grafana provisioning).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { SETTINGS } from "../../src/config/settings.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DOCKER = join(ROOT, "infra", "docker");
const SERVE = ["ofa-entail", "serve"];

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile → instructions (continuations joined, comments dropped), split into stages at FROM. */
function parseDockerfile(text: string): { args: Map<string, string>; stages: Instruction[][] } {
  const logical: string[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    if (/^\s*#/.test(raw)) continue; // comments, also inside continuations
    const line = raw.replace(/\s+$/, "");
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    if ((pending + line).trim()) logical.push((pending + line).trim());
    pending = "";
  }
  const args = new Map<string, string>();
  const stages: Instruction[][] = [];
  for (const l of logical) {
    const [, op = "", rest = ""] = /^(\S+)\s*(.*)$/.exec(l) ?? [];
    const ins = { op: op.toUpperCase(), args: rest };
    if (ins.op === "ARG" && stages.length === 0) {
      const [k, v = ""] = rest.split("=");
      args.set(k!, v);
    } else if (ins.op === "FROM") stages.push([ins]);
    else stages.at(-1)?.push(ins);
  }
  return { args, stages };
}

const fromImage = (stage: Instruction[], args: Map<string, string>): string =>
  stage[0]!.args.split(/\s+/)[0]!.replace(/\$\{(\w+)\}/g, (_m, k: string) => args.get(k) ?? "");
const stageName = (stage: Instruction[]): string | undefined => /\bAS\s+(\S+)/i.exec(stage[0]!.args)?.[1];
const execForm = (stage: Instruction[], op: string): string[] => {
  const ins = stage.filter((i) => i.op === op).at(-1);
  return ins ? (JSON.parse(ins.args) as string[]) : [];
};

async function dockerfile(name: string) {
  const parsed = parseDockerfile(await readFile(join(DOCKER, name), "utf8"));
  const ignore = (await readFile(join(DOCKER, `${name}.dockerignore`), "utf8")).split("\n").map((l) => l.trim());
  return { ...parsed, ignore, final: parsed.stages.at(-1)! };
}

const drainGraceMs = Number(SETTINGS.find((s) => s.env === "OFA_DRAIN_GRACE_MS")?.default);

for (const name of ["Dockerfile", "Dockerfile.cuda"]) {
  test(`docker - ${name}: multi-stage, runs \`ofa-entail serve\`, copies only existing files the ignore file lets through`, async () => {
    const { args, stages, ignore, final } = await dockerfile(name);
    assert.ok(stages.length >= 2, "multi-stage");
    assert.deepEqual([...execForm(final, "ENTRYPOINT"), ...execForm(final, "CMD")], SERVE);
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { bin: Record<string, string> };
    const workdir = final.filter((i) => i.op === "WORKDIR").at(-1)!.args;
    const link = final.find((i) => i.op === "RUN" && i.args.includes("/usr/local/bin/ofa-entail "));
    assert.ok(link?.args.includes(`ln -s ${join(workdir, pkg.bin["ofa-entail"]!)} /usr/local/bin/ofa-entail `), "ofa-entail on PATH is the package's bin");
    const user = final.filter((i) => i.op === "USER").at(-1)?.args;
    assert.ok(user && user !== "root" && user !== "0", "runs unprivileged");
    assert.equal(final.find((i) => i.op === "STOPSIGNAL")?.args, "SIGTERM");
    assert.ok(final.some((i) => i.op === "EXPOSE" && i.args === "9464"), "the admin port");

    const names = new Set(stages.map(stageName));
    for (const stage of stages) {
      assert.ok(fromImage(stage, args).length > 0, "FROM resolves");
      for (const copy of stage.filter((i) => i.op === "COPY")) {
        const parts = copy.args.split(/\s+/);
        const from = parts.find((p) => p.startsWith("--from="))?.slice("--from=".length);
        if (from) {
          assert.ok(names.has(from), `COPY --from=${from} names a stage`);
          continue;
        }
        for (const src of parts.filter((p) => !p.startsWith("--")).slice(0, -1)) {
          assert.ok(existsSync(join(ROOT, src)), `${name}: COPY ${src} exists in the repository`);
          assert.ok(ignore.includes(`!${src}`) || ignore.includes(`!${src}/`), `${name}: ${src} is re-included by ${name}.dockerignore`);
        }
      }
    }
  });
}

test("docker - the CPU image skips onnxruntime's CUDA download and builds on node:24-bookworm-slim", async () => {
  const { args, stages } = await dockerfile("Dockerfile");
  for (const s of stages) assert.equal(fromImage(s, args), "node:24-bookworm-slim");
  const deps = stages.find((s) => s.some((i) => i.op === "RUN" && /npm ci\b/.test(i.args)))!;
  assert.ok(deps.some((i) => i.op === "ENV" && /ONNXRUNTIME_NODE_INSTALL=skip\b/.test(i.args)));
  assert.ok(deps.some((i) => i.op === "RUN" && /npm ci --omit=dev/.test(i.args)), "production dependencies only");
});

test("docker - the CUDA image lets onnxruntime-node fetch the CUDA EP and runs on a CUDA 12 + cuDNN runtime", async () => {
  const { args, stages, final } = await dockerfile("Dockerfile.cuda");
  const deps = stages.find((s) => s.some((i) => i.op === "RUN" && /npm ci\b/.test(i.args)))!;
  assert.ok(deps.some((i) => i.op === "ENV" && /ONNXRUNTIME_NODE_INSTALL=cuda12\b/.test(i.args)));
  assert.ok(deps.some((i) => i.op === "RUN" && /node script\/install/.test(i.args)), "runs the install script package.json's allowScripts denies");
  assert.ok(!stages.flat().some((i) => i.op === "COPY" && /\.npmrc/.test(i.args)), "the repository's .npmrc (install=skip) stays out");
  assert.ok(deps.some((i) => i.op === "RUN" && /libonnxruntime_providers_cuda\.so/.test(i.args)), "the build fails if the EP was not fetched");
  assert.match(fromImage(final, args), /^nvidia\/cuda:12\.[\d.]+-cudnn-runtime-/);
  assert.ok(final.some((i) => i.op === "ENV" && /OFA_EXECUTION_PROVIDER=cuda\b/.test(i.args)));
});

test("docker - the README gives the same command as the image's entrypoint", async () => {
  const infraReadme = await readFile(join(ROOT, "infra", "README.md"), "utf8");
  assert.match(infraReadme, /^\s*ofa-entail serve\s*$/m);
  const rootReadme = join(ROOT, "README.md");
  if (existsSync(rootReadme)) assert.match(await readFile(rootReadme, "utf8"), /ofa-entail serve\b/);
});

type Obj = Record<string, any>;

/** `${VAR:-default}` → default (what compose substitutes with VAR unset). */
const withDefaults = (s: string): string => s.replace(/\$\{\w+:-([^}]*)\}/g, "$1");

async function compose(): Promise<Obj> {
  return parse(await readFile(join(DOCKER, "compose.yaml"), "utf8")) as Obj;
}

test("docker - compose.yaml parses and every file it references exists", async () => {
  const c = await compose();
  assert.deepEqual(Object.keys(c.services).sort(), ["grafana", "nats", "ofa-entail", "prometheus"]);
  let checked = 0;
  for (const [name, svc] of Object.entries(c.services as Record<string, Obj>)) {
    for (const v of (svc.volumes ?? []) as string[]) {
      const host = withDefaults(v).split(":")[0]!;
      if (!host.startsWith(".") && !host.startsWith("/")) {
        assert.ok(host in (c.volumes ?? {}), `${name}: named volume ${host} is declared`);
        continue;
      }
      assert.ok(existsSync(resolve(DOCKER, host)), `${name}: ${host} exists`);
      checked++;
    }
    if (svc.build) {
      const context = resolve(DOCKER, svc.build.context as string);
      assert.ok(existsSync(join(context, svc.build.dockerfile as string)), `${name}: build dockerfile exists`);
    }
  }
  assert.ok(checked >= 6);
});

test("docker - compose: nats runs infra/nats/single.conf on a server that knows sync_interval; the service drains before SIGKILL", async () => {
  const c = await compose();
  const nats = c.services.nats as Obj;
  assert.ok((nats.volumes as string[]).some((v) => v.startsWith("../nats/single.conf:")));
  const conf = (nats.volumes as string[]).find((v) => v.startsWith("../nats/single.conf:"))!.split(":")[1];
  assert.deepEqual((nats.command as string[]).slice(0, 2), ["-c", conf]);
  const [major, minor] = (/:(\d+)\.(\d+)/.exec(nats.image as string) ?? []).slice(1).map(Number);
  assert.ok(major! > 2 || (major === 2 && minor! >= 10), "nats image >= 2.10 (sync_interval)");
  const svc = c.services["ofa-entail"] as Obj;
  assert.ok(Number(/^(\d+)s$/.exec(svc.stop_grace_period as string)?.[1]) * 1000 > drainGraceMs, "stop_grace_period > drain");
  assert.equal(svc.stop_signal, "SIGTERM");
  assert.equal(svc.depends_on.nats.condition, "service_healthy");
  assert.equal(svc.environment.NATS_URL, "nats://nats:4222");
});

test("docker - compose: Prometheus scrapes the admin port's /metrics and loads the alert rules; Grafana gets the dashboard", async () => {
  const c = await compose();
  const adminPort = Number((c.services["ofa-entail"].environment.OFA_ADMIN_ADDR as string).split(":")[1]);
  const prom = c.services.prometheus as Obj;
  const mountOf = (svc: Obj, host: string) => (svc.volumes as string[]).find((v) => v.startsWith(`${host}:`))?.split(":")[1];
  const promConfig = parse(await readFile(join(DOCKER, "prometheus.yml"), "utf8")) as Obj;
  assert.ok((prom.command as string[]).includes(`--config.file=${mountOf(prom, "./prometheus.yml")}`));
  assert.deepEqual(promConfig.rule_files, [mountOf(prom, "../observability/alerts.yaml")]);
  const job = (promConfig.scrape_configs as Obj[]).find((j) => j.job_name === "ofa-entail")!;
  assert.equal(job.metrics_path, "/metrics");
  assert.equal(job.dns_sd_configs[0].port, adminPort);
  assert.deepEqual(job.dns_sd_configs[0].names, ["ofa-entail"]);

  const grafana = c.services.grafana as Obj;
  const provider = parse(await readFile(join(DOCKER, "grafana/provisioning/dashboards/ofa-entail.yaml"), "utf8")) as Obj;
  assert.equal(provider.providers[0].options.path, mountOf(grafana, "../observability/grafana"));
  assert.equal(mountOf(grafana, "./grafana/provisioning"), "/etc/grafana/provisioning");
  assert.ok(existsSync(join(ROOT, "infra/observability/grafana/ofa-entail.json")), "the dashboard is in the mounted folder");
});
