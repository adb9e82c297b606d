import type { Column } from './column.ts';

/** The Host column a live table gains once rows come from more than one host. */
export function hostColumn<T extends { host: string }>(width: string): Column<T> {
	return {
		id: 'host',
		header: 'Host',
		width,
		value: (row) => row.host,
		render: (row) => <span className="mono dim">{row.host}</span>,
	};
}
