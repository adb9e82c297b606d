'use client';

import { useEffect, useState } from 'react';
import { findProcess, type ProcessLookup } from './api.ts';

/** Asks the hub whether a pid was ever seen, to tell an unknown pid from an idle one. */
export function useProcessLookup(pid: number | null, hosts: readonly string[], enabled: boolean, refreshKey: string): ProcessLookup | null {
	const [lookup, setLookup] = useState<{ key: string; value: ProcessLookup } | null>(null);
	// The hosts as text: a new array with the same names is no new lookup.
	const hostKey = hosts.join('\n');
	const key = `${pid}|${hostKey}|${refreshKey}`;
	useEffect(() => {
		if (!enabled || pid === null) return;
		const controller = new AbortController();
		findProcess(pid, hostKey ? hostKey.split('\n') : [], controller.signal).then(
			(value) => {
				if (!controller.signal.aborted) setLookup({ key, value });
			},
			() => {
				// The profile query reports hub errors; without an answer the page falls back to the live table.
			},
		);
		return () => controller.abort();
	}, [enabled, pid, hostKey, key]);
	return lookup && lookup.key === key ? lookup.value : null;
}
