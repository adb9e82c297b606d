'use client';

import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { api, describeError } from '../../lib/api.ts';
import { pprofHref, resolveRange, toSearchParams } from '../../lib/profile-query.ts';
import { importProfileFile, shareHref, viewStateOf } from '../../lib/share-links.ts';
import { useProfileUrl } from '../profiles/use-profile-url.ts';
import { CopyLink } from './copy-link.tsx';

/**
 * The Profiles page's Share button (a snapshot of what the page shows, with its view) and its
 * import: a profile file dropped anywhere on the page, or picked, becomes a share and opens.
 */
export function ShareActions() {
	const router = useRouter();
	const { query } = useProfileUrl();
	const [link, setLink] = useState<string | null>(null);
	const [busy, setBusy] = useState(false);
	const [message, setMessage] = useState<{ tone: 'error' | 'note'; text: string; testId: string } | null>(null);
	const [dragging, setDragging] = useState(false);

	const share = async () => {
		if (query.hosts.length > 1) {
			// A share is taken of one host or of every host; never of every host by mistake.
			setMessage({
				tone: 'error',
				text: 'A share takes one host or every host: pick one host, or all, in the host selector.',
				testId: 'share-error',
			});
			return;
		}
		setBusy(true);
		setMessage(null);
		try {
			const { from, to } = resolveRange(query.range, Date.now());
			const viewState = viewStateOf(toSearchParams(query));
			const made = await api.shares.create.mutate({
				fromMs: Math.floor(from),
				toMs: Math.ceil(to),
				...(query.pid !== null ? { pid: query.pid } : {}),
				...(query.comm ? { comm: query.comm } : {}),
				...(query.hosts[0] !== undefined ? { host: query.hosts[0] } : {}),
				...(Object.keys(viewState).length > 0 ? { viewState } : {}),
			});
			setLink(shareHref(made.id, made.viewState));
		} catch (failure) {
			setMessage({ tone: 'error', text: describeError(failure), testId: 'share-error' });
		} finally {
			setBusy(false);
		}
	};

	// The range is resolved at the click, as the page's own pprof link is at its last fetch.
	const downloadFolded = () => {
		const { from, to } = resolveRange(query.range, Date.now());
		window.location.href = `${pprofHref({ from, to, pid: query.pid, comm: query.comm, hosts: query.hosts })}&format=folded`;
	};

	const importFile = async (file: File) => {
		setBusy(true);
		setMessage({ tone: 'note', text: `Importing ${file.name}…`, testId: 'import-status' });
		try {
			const id = await importProfileFile(file);
			router.push(shareHref(id));
		} catch (failure) {
			setMessage({ tone: 'error', text: `${file.name}: ${(failure as Error).message}`, testId: 'import-error' });
		} finally {
			setBusy(false);
		}
	};

	// The whole page takes a dropped file; the panel says so while a file is dragged over it.
	useEffect(() => {
		const over = (event: DragEvent) => {
			if (!event.dataTransfer?.types.includes('Files')) return;
			event.preventDefault();
			setDragging(true);
		};
		const leave = (event: DragEvent) => event.relatedTarget === null && setDragging(false);
		const drop = (event: DragEvent) => {
			const file = event.dataTransfer?.files[0];
			if (!file) return;
			event.preventDefault();
			setDragging(false);
			void importFile(file);
		};
		window.addEventListener('dragover', over);
		window.addEventListener('dragleave', leave);
		window.addEventListener('drop', drop);
		return () => {
			window.removeEventListener('dragover', over);
			window.removeEventListener('dragleave', leave);
			window.removeEventListener('drop', drop);
		};
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, []);

	return (
		// Above the page's own panels: in reach before a tall flame graph, and over nothing.
		<div className="page" style={{ marginBottom: 16 }}>
			<section
				className="panel"
				aria-label="Share and import"
				data-testid="share-actions"
				style={dragging ? { outline: '2px dashed var(--accent, #e8962e)' } : undefined}
			>
				<div className="query-bar">
					<button
						type="button"
						className="button button-primary"
						onClick={share}
						disabled={busy}
						data-testid="share-create"
						title="A link to a snapshot of this profile and view; it opens without the dashboard's login"
					>
						Share
					</button>
					{link && <CopyLink path={link} />}
					<button
						type="button"
						className="button"
						onClick={downloadFolded}
						data-testid="download-folded"
						title="The merged profile as folded stacks, for flamegraph.pl, speedscope or inferno"
					>
						Download folded
					</button>
					<div className="spacer" />
					<span className="toolbar-note">
						{dragging ? 'Drop to import' : 'Drop a pprof, folded, perf script or .cpuprofile file here, or'}
					</span>
					<label className="button" data-testid="import-pick">
						Import file…
						<input
							type="file"
							hidden
							data-testid="import-file"
							onChange={(event) => {
								const file = event.target.files?.[0];
								event.target.value = '';
								if (file) void importFile(file);
							}}
						/>
					</label>
				</div>
				{message && (
					<p
						className={message.tone === 'error' ? 'empty-detail import-error' : 'toolbar-note'}
						role={message.tone === 'error' ? 'alert' : 'status'}
						data-testid={message.testId}
						style={{ margin: '0 12px 10px' }}
					>
						{message.text}
					</p>
				)}
			</section>
		</div>
	);
}
