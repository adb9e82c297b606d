import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DaemonSet, Deployment } from 'kubernetes-models/apps/v1';
import { Namespace, PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';

const dir = new URL('../kubernetes/', import.meta.url);

/** The kinds the manifests use, each with its typed model; validate() checks it against the Kubernetes schema. */
const models: Record<string, new (data: never) => { validate(): void }> = {
	'apps/v1 DaemonSet': DaemonSet,
	'apps/v1 Deployment': Deployment,
	'v1 Namespace': Namespace,
	'v1 PersistentVolumeClaim': PersistentVolumeClaim,
	'v1 Service': Service,
};

interface Manifest {
	file: string;
	object: { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } } & Record<string, unknown>;
}

function manifests(): Manifest[] {
	const out: Manifest[] = [];
	for (const file of readdirSync(dir)
		.filter((f) => f.endsWith('.yaml'))
		.sort()) {
		for (const doc of parseAllDocuments(readFileSync(new URL(file, dir), 'utf8'))) {
			assert.deepEqual(doc.errors, [], `${file}: YAML errors`);
			out.push({ file, object: doc.toJS() as Manifest['object'] });
		}
	}
	return out;
}

/** The manifest of this kind and name, as its typed model (checked against the schema above). */
function find<T>(Model: new (data: never) => T, kind: string, name: string): T {
	const m = manifests().find((m) => m.object.kind === kind && m.object.metadata?.name === name);
	assert.ok(m, `no ${kind} ${name}`);
	return new Model(m.object as never);
}

const collectorSet = () => find(DaemonSet, 'DaemonSet', 'firesight-collector');
const hubDeployment = () => find(Deployment, 'Deployment', 'firesight-hub');

test('every manifest parses and matches the Kubernetes schema of its kind', () => {
	const all = manifests();
	assert.ok(all.length >= 5, `only ${all.length} manifests`);
	for (const { file, object } of all) {
		const key = `${String(object.apiVersion)} ${String(object.kind)}`;
		const Model = models[key];
		assert.ok(Model, `${file}: no schema for ${key}`);
		assert.doesNotThrow(() => new Model(object as never).validate(), `${file}: ${key} ${String(object.metadata?.name)}`);
	}
});

test('a wrong field type fails the schema check (the check can fail)', () => {
	const hub = structuredClone(hubDeployment().toJSON()) as { spec: { replicas: unknown } };
	hub.spec.replicas = 'one';
	assert.throws(() => new Deployment(hub as never).validate());
});

test('the collector DaemonSet is privileged in the host PID namespace, with the kernel mounts it needs', () => {
	const pod = collectorSet().spec?.template.spec;
	assert.equal(pod?.hostPID, true);
	const collector = pod?.containers[0];
	assert.equal(collector?.securityContext?.privileged, true);
	const hostPaths = new Map((pod?.volumes ?? []).map((v) => [v.name, v.hostPath?.path]));
	const mounted = (collector?.volumeMounts ?? []).map((m) => hostPaths.get(m.name));
	for (const path of ['/sys/kernel/btf', '/sys/fs/bpf', '/sys/kernel/tracing', '/sys/kernel/debug', '/proc']) {
		assert.ok(mounted.includes(path), `${path} is not mounted`);
	}
});

test('the token comes from a Secret, never inline, and every container has requests and limits', () => {
	for (const workload of [collectorSet(), hubDeployment()]) {
		const name = workload.metadata?.name;
		const pod = workload.spec?.template.spec;
		for (const c of [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]) {
			const token = (c.env ?? []).find((e) => e.name === 'FIRESIGHT_TOKEN');
			assert.equal(token?.value, undefined, `${name}: inline token`);
			assert.deepEqual(token?.valueFrom?.secretKeyRef, { name: 'firesight-token', key: 'token' }, `${name}: token not from the Secret`);
			assert.ok(!(c.args ?? []).includes('--token'), `${name}: token on the command line`);
			for (const bound of [c.resources?.requests, c.resources?.limits]) {
				assert.ok(bound?.cpu && bound.memory, `${name}: no requests or limits`);
			}
		}
	}
});

test('the hub Service reaches the hub pods on the port the hub listens on', () => {
	const hub = hubDeployment();
	const service = find(Service, 'Service', 'firesight-hub');
	assert.deepEqual(service.spec?.selector, hub.spec?.selector.matchLabels);
	const [servicePort] = service.spec?.ports ?? [];
	const container = hub.spec?.template.spec?.containers[0];
	const port = container?.ports?.find((p) => p.name === servicePort?.targetPort);
	assert.equal(port?.containerPort, 7300);
	assert.ok(container?.args?.includes('0.0.0.0:7300'));
	const collectorArgs = collectorSet().spec?.template.spec?.containers[0]?.args ?? [];
	assert.ok(collectorArgs.includes(`http://${service.metadata?.name}.${service.metadata?.namespace}.svc:${servicePort?.port}`));
});
