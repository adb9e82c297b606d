/**
 * The counters buffers the addon hands over: one u64 per counter, in the order of a `<tool>_counter`
 * enum in bpf/<tool>.h. A buffer of another size means the enum and the decoder's list of names
 * disagree; reading it anyway would show every counter past the end as "no drops", so it throws.
 */
export function decodeCounterArray<Name extends string>(what: string, names: readonly Name[], buf: ArrayBuffer): Record<Name, number> {
	const expected = names.length * 8;
	if (buf.byteLength !== expected) {
		throw new Error(
			`${what} counters buffer is ${buf.byteLength} bytes, expected ${expected} (${names.length} u64 counters): ` +
				'the C enum and the decoder disagree',
		);
	}
	const view = new DataView(buf);
	const out = {} as Record<Name, number>;
	names.forEach((name, i) => {
		out[name] = Number(view.getBigUint64(i * 8, true));
	});
	return out;
}
