import Link from 'next/link';

export default function NotFound() {
	return (
		<div className="page">
			<div className="empty-state" data-testid="not-found">
				<div className="empty-title">There is no page here</div>
				<p className="empty-detail">
					Go to <Link href="/">Processes</Link> or <Link href="/profiles">Profiles</Link>.
				</p>
			</div>
		</div>
	);
}
