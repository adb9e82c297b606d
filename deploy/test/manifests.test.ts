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
	for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
		for (const doc of parseAllDocuments(readFileSync(new URL(file, dir), 'utf8'))) {
			assert.deepEqual(doc.errors, [], `${file}: YAML errors`);
			out.push({ file, object: doc.toJS() as Manifest['object'] });
		}
	}
	return out;
}

function find(kind: string, name: string): Record<string, any> {
	const m = manifests().find((m) => m.object.kind === kind && m.object.metadata?.name === name);
	assert.ok(m, `no ${kind} ${name}`);
	return m.object;
}

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
	const hub = structuredClone(find('Deployment', 'firesight-hub'));
	hub.spec.replicas = 'one';
	assert.throws(() => new Deployment(hub as never).validate());
});

/** Every container of a pod spec, with its manifest's name for messages. */
function containers(pod: Record<string, any>): Record<string, any>[] {
	return [...(pod.initContainers ?? []), ...pod.containers];
}

test('the collector DaemonSet is privileged in the host PID namespace, with the kernel mounts it needs', () => {
	const pod = find('DaemonSet', 'firesight-collector').spec.template.spec;
	assert.equal(pod.hostPID, true);
	const [collector] = pod.containers;
	assert.equal(collector.securityContext?.privileged, true);
	const hostPaths = new Map<string, string>(pod.volumes.map((v: any) => [v.name, v.hostPath?.path]));
	const mounted = collector.volumeMounts.map((m: any) => hostPaths.get(m.name));
	for (const path of ['/sys/kernel/btf', '/sys/fs/bpf', '/sys/kernel/tracing', '/sys/kernel/debug', '/proc']) {
		assert.ok(mounted.includes(path), `${path} is not mounted`);
	}
});

test('the token comes from a Secret, never inline, and every container has requests and limits', () => {
	for (const [kind, name] of [
		['DaemonSet', 'firesight-collector'],
		['Deployment', 'firesight-hub'],
	] as const) {
		for (const c of containers(find(kind, name).spec.template.spec)) {
			const token = (c.env ?? []).find((e: any) => e.name === 'FIRESIGHT_TOKEN');
			assert.equal(token?.value, undefined, `${name}: inline token`);
			assert.deepEqual(token?.valueFrom?.secretKeyRef, { name: 'firesight-token', key: 'token' }, `${name}: token not from the Secret`);
			assert.ok(!(c.args ?? []).includes('--token'), `${name}: token on the command line`);
			for (const bound of ['requests', 'limits']) {
				assert.ok(c.resources?.[bound]?.cpu && c.resources?.[bound]?.memory, `${name}: no ${bound}`);
			}
		}
	}
});

test('the hub Service reaches the hub pods on the port the hub listens on', () => {
	const hub = find('Deployment', 'firesight-hub');
	const service = find('Service', 'firesight-hub');
	assert.deepEqual(service.spec.selector, hub.spec.selector.matchLabels);
	const [container] = hub.spec.template.spec.containers;
	const port = container.ports.find((p: any) => p.name === service.spec.ports[0].targetPort);
	assert.equal(port?.containerPort, 7300);
	assert.ok(container.args.includes('0.0.0.0:7300'));
	const collectorArgs: string[] = find('DaemonSet', 'firesight-collector').spec.template.spec.containers[0].args;
	assert.ok(collectorArgs.includes(`http://${service.metadata.name}.${service.metadata.namespace}.svc:${service.spec.ports[0].port}`));
});
