import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { ElfFile, FileSource, GoFuncFlag, GoPclntab } from '@firesight/symbolize';
import { buildGoFixture } from '@firesight/testing/workloads';
import { buildElfUnwindTable } from './elf-unwind.ts';
import { CfaKind, formatRule, RaKind, SavedKind } from './unwind-rule.ts';

/** `readelf --debug-dump=frames-interp` rows of Go's .debug_frame: [pc, CFA offset from rsp] per FDE. */
function readelfGoRows(path: string): Map<number, { end: number; rows: [number, number][] }> {
	const out = execFileSync('readelf', ['-wN', '--debug-dump=frames-interp', path], { encoding: 'utf8', maxBuffer: 1 << 30 });
	const fdes = new Map<number, { end: number; rows: [number, number][] }>();
	let rows: [number, number][] | undefined;
	for (const line of out.split('\n')) {
		const fde = /FDE cie=[0-9a-f]+ pc=([0-9a-f]+)\.\.([0-9a-f]+)/.exec(line);
		if (fde !== null) {
			rows = [];
			fdes.set(parseInt(fde[1]!, 16), { end: parseInt(fde[2]!, 16), rows });
			continue;
		}
		const row = /^([0-9a-f]{16}) rsp\+(\d+)\s+c-8\s*$/.exec(line);
		if (rows === undefined) continue; // the CIE's
		if (row !== null) rows.push([parseInt(row[1]!, 16), Number(row[2])]);
		else if (/^[0-9a-f]{16} /.test(line)) assert.fail(`a Go row other than rsp+N, ra=c-8: ${line}`);
	}
	return fdes;
}

describe("Go's function table (.gopclntab) as unwind rows", () => {
	const { path: full, stripped, cleanup } = buildGoFixture('go-stacks');
	after(cleanup);
	const src = new FileSource(stripped);
	const go = GoPclntab.fromSections(src, new ElfFile(src).sections)!;
	src.close();

	test("a stripped binary's table has the CFA of every row of its DWARF twin's .debug_frame, as readelf prints it", () => {
		const { table, sections } = buildElfUnwindTable(stripped);
		assert.deepEqual(sections, ['gopclntab']);
		const fdes = readelfGoRows(full);
		const special = new Set(go.funcs.filter((f) => (f.flag & (GoFuncFlag.spWrite | GoFuncFlag.topFrame)) !== 0).map((f) => f.entry));
		const mismatches: string[] = [];
		let points = 0;
		for (const [begin, { end, rows }] of fdes) {
			if (special.has(begin)) continue;
			// Every address where either side starts a row.
			const at = new Set(rows.map(([pc]) => pc));
			for (let i = Math.max(0, table.find(begin)); i < table.rowCount && table.pc(i) < end; i++) at.add(Math.max(table.pc(i), begin));
			for (const pc of at) {
				points++;
				let cfa = 8;
				for (const [loc, off] of rows) if (loc <= pc) cfa = off;
				const ours = table.lookup(pc);
				if (ours.cfa !== CfaKind.rsp || ours.cfaOffset !== cfa || ours.ra !== RaKind.offset || ours.raOffset !== -8)
					mismatches.push(`0x${pc.toString(16)}: readelf rsp+${cfa}, ours ${formatRule(ours)}`);
			}
		}
		assert.ok(fdes.size > 1000 && points > 5000, `compared ${points} addresses of ${fdes.size} FDEs`);
		assert.deepEqual(mismatches.slice(0, 20), [], `${mismatches.length} of ${points} addresses differ`);
	});

	test('rbp is saved below the return address once a frame is set up, from the byte after the prologue grows the stack', () => {
		const { table } = buildElfUnwindTable(stripped);
		const churn = go.funcs.find((f) => f.name === 'main.churn')!;
		const { pcs, values } = go.spDeltas(churn);
		const grown = pcs[values.findIndex((v) => v > 0)]!;
		assert.equal(table.lookup(churn.entry).rbp, SavedKind.unchanged);
		assert.equal(table.lookup(grown).rbp, SavedKind.unchanged, 'the save itself has not run yet');
		const framed = table.lookup(grown + 1);
		assert.equal(framed.rbp, SavedKind.offset);
		assert.equal(framed.rbpOffset, -16);
		// The instruction at `grown` is the save, as the prologue is written (Go 1.19's: a move of
		// rbp into the frame; newer Go pushes it, and then sets rbp here).
		const code = execFileSync(
			'objdump',
			['-d', '--no-show-raw-insn', `--start-address=${grown}`, `--stop-address=${grown + 8}`, stripped],
			{ encoding: 'utf8' },
		);
		assert.match(
			code.split('\n').find((l) => l.includes(`${grown.toString(16)}:`)) ?? '',
			/mov\s+%rbp,0x[0-9a-f]+\(%rsp\)|mov\s+%rsp,%rbp/,
			code,
		);
	});

	test('the functions that switch stacks find their caller by rbp; the outermost have none', () => {
		const { table } = buildElfUnwindTable(stripped);
		const rule = (name: string) => table.lookup(go.funcs.find((f) => f.name === name)!.entry + 1);
		for (const name of ['runtime.systemstack', 'runtime.mcall', 'runtime.morestack', 'runtime.asmcgocall']) {
			const r = rule(name);
			assert.equal(formatRule(r), 'switched(rbp+16) rbp=c-16 rbx=u ra=c-8', name);
		}
		for (const name of ['runtime.goexit', 'runtime.mstart', 'runtime.rt0_go']) assert.equal(rule(name).ra, RaKind.undefined, name);
	});

	test('with DWARF, the function table wins over .debug_frame, which covers nothing more', () => {
		const { stats, sections } = buildElfUnwindTable(full);
		assert.deepEqual(sections, ['gopclntab', 'debug_frame']);
		assert.equal(stats.overlappingFdes, readelfGoRows(full).size);
	});
});
