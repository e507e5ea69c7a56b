/**
 * infra/k8s manifests: each validates against a vendored minimal schema of its kind
 * (test/infra/schemas/, ajv; unknown fields are errors so a typo fails), and the parts agree
 * with each other and with the code: probes on paths the admin server serves, settings that
 * exist, a grace period longer than the drain, KEDA on the real stream and consumers.
 * Manifests are parsed as YAML 1.1, as Kubernetes does (so an unquoted `yes` is a boolean).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, readdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";
import { parse, parseAllDocuments } from "yaml";
import { buildAdmin, type AdminSource } from "../../src/admin/server.ts";
import { SETTINGS } from "../../src/config/settings.ts";
import { createLogger } from "../../src/log/logger.ts";

const K8S = fileURLToPath(new URL("../../infra/k8s/", import.meta.url));
const SCHEMAS = fileURLToPath(new URL("./schemas/", import.meta.url));
const DEFINITIONS = fileURLToPath(new URL("../../infra/jetstream/definitions.json", import.meta.url));
const SCHEMA_BY_KIND: Record<string, string> = {
  Deployment: "deployment.schema.json",
  PodDisruptionBudget: "pdb.schema.json",
  Service: "service.schema.json",
  ConfigMap: "configmap.schema.json",
  Secret: "secret.schema.json",
  ScaledObject: "scaledobject.schema.json",
};
/** Files in infra/k8s that are not Kubernetes objects. */
const NOT_MANIFESTS = new Set(["nats-values.yaml", "kustomization.yaml"]);

// Loosely typed views of the manifests; the schemas have checked the shapes.
type Obj = Record<string, any>;

interface Manifest {
  file: string;
  doc: Obj;
}

async function loadManifests(): Promise<Manifest[]> {
  const out: Manifest[] = [];
  for (const file of (await readdir(K8S)).filter((f) => f.endsWith(".yaml") && !NOT_MANIFESTS.has(f)).sort()) {
    for (const doc of parseAllDocuments(await readFile(join(K8S, file), "utf8"), { version: "1.1" })) {
      assert.equal(doc.errors.length, 0, `${file}: ${doc.errors.join("; ")}`);
      if (doc.contents) out.push({ file, doc: doc.toJS() as Obj });
    }
  }
  return out;
}

async function validators(): Promise<Map<string, ValidateFunction>> {
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addSchema(JSON.parse(await readFile(join(SCHEMAS, "common.schema.json"), "utf8")) as object);
  const out = new Map<string, ValidateFunction>();
  for (const [kind, file] of Object.entries(SCHEMA_BY_KIND)) {
    out.set(kind, ajv.compile(JSON.parse(await readFile(join(SCHEMAS, file), "utf8")) as object));
  }
  return out;
}

const manifests = await loadManifests();
const one = (kind: string): Obj => {
  const found = manifests.filter((m) => m.doc.kind === kind);
  assert.equal(found.length, 1, `exactly one ${kind}`);
  return found[0]!.doc;
};
const deployment = one("Deployment");
const pod = deployment.spec.template.spec as Obj;
const container = pod.containers[0] as Obj;
const envValue = (name: string): Obj | undefined => (container.env as Obj[]).find((e) => e.name === name);
const drainGraceMs = (): number => {
  const fromConfigMap = one("ConfigMap").data.OFA_DRAIN_GRACE_MS as string | undefined;
  const setting = SETTINGS.find((s) => s.env === "OFA_DRAIN_GRACE_MS");
  return Number(fromConfigMap ?? setting?.default);
};

test("k8s - every manifest validates against the schema of its kind", async () => {
  const validate = await validators();
  assert.deepEqual(new Set(manifests.map((m) => m.doc.kind)), new Set(Object.keys(SCHEMA_BY_KIND)), "one schema per kind used, every kind used");
  for (const { file, doc } of manifests) {
    const v = validate.get(doc.kind as string);
    assert.ok(v, `${file}: no schema for kind ${doc.kind}`);
    assert.ok(v(doc), `${file} (${doc.kind}): ${JSON.stringify(v.errors, null, 1)}`);
  }
});

test("k8s - the schemas reject what they should (a typo'd probe, a numeric ConfigMap value, a non-string KEDA threshold)", async () => {
  const validate = await validators();
  const typo = structuredClone(deployment);
  typo.spec.template.spec.containers[0].readinesProbe = typo.spec.template.spec.containers[0].readinessProbe;
  assert.equal(validate.get("Deployment")!(typo), false);
  const numeric = structuredClone(one("ConfigMap"));
  numeric.data.OFA_WORKERS = 1;
  assert.equal(validate.get("ConfigMap")!(numeric), false);
  const keda = structuredClone(one("ScaledObject"));
  keda.spec.triggers[0].metadata.lagThreshold = 16;
  assert.equal(validate.get("ScaledObject")!(keda), false);
});

test("k8s - probes use /healthz and /readyz on the admin port, and the admin server serves those paths", async () => {
  const admin = (container.ports as Obj[]).find((p) => p.name === "admin");
  assert.ok(admin, "a port named admin");
  assert.equal(container.livenessProbe.httpGet.path, "/healthz");
  assert.equal(container.readinessProbe.httpGet.path, "/readyz");
  for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
    assert.equal(container[probe].httpGet.port, "admin", `${probe} targets the admin port`);
  }
  // The admin server binds 127.0.0.1 by default: the pod must bind all interfaces, on that port.
  assert.equal(envValue("OFA_ADMIN_ADDR")?.value, `0.0.0.0:${admin.containerPort}`);
  assert.equal(admin.containerPort, 9464);

  const source: AdminSource = {
    health: () => ({ alive: true, reasons: [] }),
    readiness: () => ({ ready: true, reasons: [] }),
    metrics: async () => ({ contentType: "text/plain", body: "" }),
    status: async () => ({}),
    asyncApi: () => ({}),
    reloadModel: async () => ({ ok: true }),
  };
  const app = buildAdmin({ source, token: "t", logger: createLogger("silent"), loopback: true });
  await app.ready();
  try {
    for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
      const res = await app.inject({ method: "GET", url: container[probe].httpGet.path as string });
      assert.equal(res.statusCode, 200, `${probe} path answers without the bearer token`);
    }
  } finally {
    await app.close();
  }
});

test("k8s - the admin token comes from the Secret, and every OFA_* / NATS_URL variable is a real setting", () => {
  const secret = one("Secret");
  const ref = envValue("OFA_ADMIN_TOKEN")?.valueFrom?.secretKeyRef as Obj;
  assert.equal(ref.name, secret.metadata.name);
  assert.ok(ref.key in secret.stringData, "the Secret example has the key");
  for (const value of Object.values(secret.stringData as Record<string, string>)) {
    assert.ok(value === "REPLACE_ME" || !/pass|token|secret/i.test(value), "no real secret committed");
  }
  const known = new Set(SETTINGS.map((s) => s.env));
  const names = [...Object.keys(one("ConfigMap").data), ...(container.env as Obj[]).map((e) => e.name as string), ...Object.keys(secret.stringData)];
  for (const name of names) assert.ok(known.has(name), `${name} is a setting in src/config/settings.ts`);
  assert.equal(container.envFrom[0].configMapRef.name, one("ConfigMap").metadata.name);
});

test("k8s - termination grace outlasts the drain; resources fit OFA-large on CPU; selectors match the pods", () => {
  assert.ok(pod.terminationGracePeriodSeconds * 1000 > drainGraceMs(), "grace period > OFA_DRAIN_GRACE_MS");
  assert.equal(pod.terminationGracePeriodSeconds, 45);
  const gib = (q: string) => Number(/^(\d+)Gi$/.exec(q)?.[1] ?? Number.NaN);
  assert.ok(gib(container.resources.requests.memory) >= 7, "about 7 GiB RSS per OFA-large worker");
  assert.ok(gib(container.resources.limits.memory) >= gib(container.resources.requests.memory));
  assert.equal(one("ConfigMap").data.OFA_WORKERS, "1", "memory is sized for one worker per pod");
  const labels = deployment.spec.template.metadata.labels as Record<string, string>;
  const matches = (sel: Record<string, string>) => Object.entries(sel).every(([k, v]) => labels[k] === v);
  assert.ok(matches(deployment.spec.selector.matchLabels));
  assert.ok(matches(one("PodDisruptionBudget").spec.selector.matchLabels), "PDB selects the consumer pods");
  const service = one("Service");
  assert.ok(matches(service.spec.selector), "Service selects the consumer pods");
  assert.equal(service.spec.ports[0].targetPort, "admin");
});

test("k8s - KEDA scales the Deployment on both lane consumers of OFA_VE_REQ, through the NATS headless service", async () => {
  const keda = one("ScaledObject");
  assert.equal(keda.spec.scaleTargetRef.name, deployment.metadata.name);
  const defs = JSON.parse(await readFile(DEFINITIONS, "utf8")) as { consumers: { stream: string; durable_name: string }[] };
  const laneConsumers = defs.consumers.filter((c) => c.stream === "OFA_VE_REQ").map((c) => c.durable_name).sort();
  const triggers = keda.spec.triggers as Obj[];
  assert.deepEqual(triggers.map((t) => t.metadata.consumer).sort(), laneConsumers);
  const values = parse(await readFile(join(K8S, "nats-values.yaml"), "utf8")) as Obj;
  for (const t of triggers) {
    assert.equal(t.type, "nats-jetstream");
    assert.equal(t.metadata.stream, "OFA_VE_REQ");
    assert.equal(t.metadata.account, "$G");
    const [host, port] = (t.metadata.natsServerMonitoringEndpoint as string).split(":");
    assert.match(host!, /^nats-headless\./, "the headless service, so <server_name>.<host> resolves to the consumer leader");
    assert.equal(Number(port), values.config.monitor.port);
    assert.equal(t.metadata.useHttps, values.config.monitor.tls?.enabled ? "true" : "false");
  }
  assert.ok(keda.spec.minReplicaCount >= 1 && keda.spec.maxReplicaCount > keda.spec.minReplicaCount);
});

test("k8s - NATS Helm values: 3-node cluster, JetStream on file storage, 8 MiB max_payload, sync_interval always", async () => {
  const values = parse(await readFile(join(K8S, "nats-values.yaml"), "utf8")) as Obj;
  assert.equal(values.config.cluster.enabled, true);
  assert.equal(values.config.cluster.replicas, 3);
  assert.equal(values.config.jetstream.enabled, true);
  assert.equal(values.config.jetstream.fileStore.enabled, true);
  assert.equal(values.config.jetstream.fileStore.pvc.enabled, true);
  assert.equal(values.config.jetstream.merge.sync_interval, "always");
  assert.equal(values.config.merge.max_payload, 8 * 1024 * 1024);
  assert.equal(values.config.monitor.enabled, true);
  assert.equal(one("ConfigMap").data.OFA_REPLICAS, String(values.config.cluster.replicas), "streams get one replica per node");
});

test("k8s - kustomization lists existing files and leaves the Secret example out", async () => {
  const kustomization = parse(await readFile(join(K8S, "kustomization.yaml"), "utf8")) as { resources: string[] };
  for (const r of kustomization.resources) assert.ok(existsSync(join(K8S, r)), r);
  assert.ok(!kustomization.resources.includes("secret.example.yaml"));
  const applied = new Set(kustomization.resources);
  for (const f of new Set(manifests.map((m) => m.file))) if (f !== "secret.example.yaml") assert.ok(applied.has(f), `${f} in kustomization`);
});
