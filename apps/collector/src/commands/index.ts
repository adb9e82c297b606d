import type { Command } from '../command.ts';

/** A subcommand as `--help` lists it; its module is imported only when it runs. */
export interface CommandEntry {
	readonly name: string;
	readonly summary: string;
	load(): Promise<Command>;
}

/**
 * Every `firesight` subcommand, in the order `--help` lists them. Loading lazily keeps a
 * long-running collector from holding the hub, the dashboard server and their libraries in memory.
 */
export const commands: readonly CommandEntry[] = [
	{ name: 'up', summary: 'run the hub, the dashboard and a local collector', load: async () => (await import('./up.ts')).up },
	{
		name: 'record',
		summary: 'sample CPU stacks for a while and write a folded or pprof profile',
		load: async () => (await import('./record.ts')).record,
	},
	{
		name: 'collector',
		summary: "run this host's collector, streaming to a hub",
		load: async () => (await import('./collector.ts')).collector,
	},
	{
		name: 'hub',
		summary: 'run the hub (dashboard, API, collector endpoint) without a local collector',
		load: async () => (await import('./hub.ts')).hub,
	},
	{
		name: 'query',
		summary: 'read profiles, requests or retransmits from a running hub',
		load: async () => (await import('./query.ts')).query,
	},
	{ name: 'share', summary: 'snapshot a stored profile and print a link to it', load: async () => (await import('./share.ts')).share },
	{
		name: 'import',
		summary: 'send a pprof, folded, perf script or .cpuprofile file to a hub as a share',
		load: async () => (await import('./import.ts')).importCommand,
	},
];
