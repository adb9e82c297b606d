import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DockerfileParser, type Dockerfile, type Instruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';

// The images are built and run by containers/build-and-smoke.sh, which needs a container
// builder and minutes; this checks the recipes themselves on every run: the Dockerfile linter
// of VS Code's Docker support, then what the deploy guide and the manifests rely on.

const containers = fileURLToPath(new URL('../containers/', import.meta.url));
const root = fileURLToPath(new URL('../../', import.meta.url));
const CLI = '/opt/firesight/apps/collector/bin/firesight.js';

function parse(name: string): { text: string; file: Dockerfile } {
	const text = readFileSync(`${containers}${name}`, 'utf8');
	return { text, file: DockerfileParser.parse(text) };
}

/** The instructions of the last stage: what the image runs with. */
function finalStage(file: Dockerfile): Instruction[] {
	const all = file.getInstructions();
	const from = all.map((i) => i.getKeyword()).lastIndexOf('FROM');
	return all.slice(from);
}

const args = (i: Instruction | undefined) => i?.getArgumentsContent() ?? '';
const keyword = (stage: Instruction[], k: string) => stage.filter((i) => i.getKeyword() === k);

/** Checks both images share; returns the final stage. */
function checkRecipe(name: string, workspace: string): Instruction[] {
	const { text, file } = parse(name);
	assert.deepEqual(
		validate(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`),
		[],
		`${name}: the Dockerfile linter finds nothing`,
	);
	// Stages: every COPY --from names a stage built before it.
	const stages: string[] = [];
	for (const i of file.getInstructions()) {
		if (i.getKeyword() === 'FROM') {
			const m = /\bAS\s+(\S+)\s*$/i.exec(args(i));
			if (m) stages.push(m[1]!);
			// The base's Node major is one the repository supports (engines: node >= 20.9).
			assert.match(args(i), /^node:(2[0-9])-bookworm-slim\b/, `${name}: ${args(i)}`);
		}
		if (i.getKeyword() === 'COPY') {
			const from = /--from=(\S+)/.exec(i.getTextContent())?.[1];
			if (from !== undefined) assert.ok(stages.includes(from), `${name}: COPY --from=${from} names no earlier stage`);
		}
	}
	// The build installs from the lockfile and builds the workspace the image runs.
	const runs = file
		.getInstructions()
		.filter((i) => i.getKeyword() === 'RUN')
		.map(args);
	assert.ok(existsSync(`${root}package-lock.json`));
	assert.ok(
		runs.some((r) => /\bnpm ci\b/.test(r)),
		`${name}: npm ci`,
	);
	assert.ok(
		runs.some((r) => r.includes(`turbo run build --filter=${workspace}...`)),
		`${name}: builds ${workspace}`,
	);
	assert.ok(existsSync(`${root}${workspace.replace('@firesight/', 'apps/')}/package.json`), `${workspace} is a workspace`);
	// The image starts the CLI, which is in the repository where the entrypoint says.
	const stage = finalStage(file);
	const entry = keyword(stage, 'ENTRYPOINT');
	assert.equal(entry.length, 1, `${name}: one ENTRYPOINT`);
	assert.deepEqual(JSON.parse(args(entry[0])), ['node', CLI]);
	assert.ok(existsSync(`${root}${CLI.replace('/opt/firesight/', '')}`), `${CLI} exists in the repository`);
	// The build context leaves out what the build makes anew.
	const ignore = readFileSync(`${containers}${name}.dockerignore`, 'utf8').split('\n');
	for (const pattern of ['**/node_modules', '.git', '**/.next']) assert.ok(ignore.includes(pattern), `${name}.dockerignore: ${pattern}`);
	return stage;
}

test('the hub image: lint-clean, runs the hub as the unprivileged node user with its store in a volume on port 7300', () => {
	const stage = checkRecipe('hub.Dockerfile', '@firesight/web');
	assert.deepEqual(keyword(stage, 'USER').map(args), ['node']);
	assert.deepEqual(keyword(stage, 'EXPOSE').map(args), ['7300']);
	assert.deepEqual(keyword(stage, 'VOLUME').map(args), ['/var/lib/firesight']);
	const cmd = JSON.parse(args(keyword(stage, 'CMD')[0])) as string[];
	assert.equal(cmd[0], 'hub');
	assert.equal(cmd[cmd.indexOf('--data') + 1], '/var/lib/firesight');
	assert.equal(cmd[cmd.indexOf('--listen') + 1], '0.0.0.0:7300');
});

test('the collector image: lint-clean, runs as root with the libraries its BPF addon links against', () => {
	const stage = checkRecipe('collector.Dockerfile', '@firesight/collector');
	// Loading BPF needs root (the DaemonSet runs it privileged); no USER in the final stage.
	assert.deepEqual(keyword(stage, 'USER'), []);
	const installs = keyword(stage, 'RUN').map(args).join(' ');
	for (const lib of ['libbpf1', 'libelf1', 'zlib1g']) assert.match(installs, new RegExp(`\\b${lib}\\b`), lib);
});

test('a broken recipe is caught: an unknown instruction, and a COPY from a stage that does not exist', () => {
	const broken = 'FROM node:20-bookworm-slim AS build\nCOPYY . .\n';
	assert.notDeepEqual(validate(broken), []);
	const file = DockerfileParser.parse('FROM node:20-bookworm-slim\nCOPY --from=biuld /a /b\n');
	const copy = file.getInstructions().find((i) => i.getKeyword() === 'COPY')!;
	assert.equal(/--from=(\S+)/.exec(copy.getTextContent())?.[1], 'biuld');
});
