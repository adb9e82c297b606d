import { execFileSync } from 'node:child_process';

/**
 * The functions of a binary linked at fixed addresses (-no-pie), by `nm`: the raw addresses a
 * walk returns can be told apart without symbolizing them, the way the unwind tests that look at
 * single instructions need.
 */
export interface FixedAddressFunctions {
	/** [start, end) of the named function. */
	range(name: string): [bigint, bigint];
	/** Whether ip is in the named function. */
	contains(ip: bigint | undefined, name: string): boolean;
	/** Whether ip is a return address into the named function: its call is the byte before. */
	calledFrom(ip: bigint | undefined, name: string): boolean;
}

export function fixedAddressFunctions(binary: string): FixedAddressFunctions {
	const ranges = new Map<string, [bigint, bigint]>();
	for (const line of execFileSync('nm', ['-S', '--defined-only', binary], { encoding: 'utf8' }).split('\n')) {
		const m = /^([0-9a-f]+) ([0-9a-f]+) [Tt] (\S+)$/.exec(line);
		if (m) ranges.set(m[3]!, [BigInt(`0x${m[1]}`), BigInt(`0x${m[1]}`) + BigInt(`0x${m[2]}`)]);
	}
	const range = (name: string) => {
		const r = ranges.get(name);
		if (r === undefined) throw new Error(`${binary} has no function ${name}`);
		return r;
	};
	const contains = (ip: bigint | undefined, name: string) => {
		const [start, end] = range(name);
		return ip !== undefined && ip >= start && ip < end;
	};
	return { range, contains, calledFrom: (ip, name) => ip !== undefined && contains(ip - 1n, name) };
}
