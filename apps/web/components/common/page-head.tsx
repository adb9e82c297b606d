import type { ReactNode } from 'react';

/** A page's title and the line under it (what it shows, how fresh). */
export function PageHead({ title, children }: { title: string; children: ReactNode }) {
	return (
		<div className="page-head">
			<div>
				<h1>{title}</h1>
				<p className="page-sub">{children}</p>
			</div>
		</div>
	);
}
