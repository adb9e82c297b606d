'use client';

import { bannerFor } from '../../lib/banner.ts';
import { useNow } from '../../lib/use-now.ts';
import { useLive, useRetryNow } from '../live/live-provider.tsx';
import { InlineCode } from '../common/inline-code.tsx';

export function ConnectionBanner() {
	const state = useLive();
	const now = useNow(500);
	const retryNow = useRetryNow();
	const banner = bannerFor(state, now);
	if (!banner) return null;
	const retryIn = banner.kind === 'hub' && banner.retryAt !== null ? Math.max(0, Math.ceil((banner.retryAt - now) / 1000)) : null;
	return (
		<div className={`banner banner-${banner.kind}`} role="alert" data-testid="disconnected-banner" data-kind={banner.kind}>
			<span className="banner-icon" aria-hidden="true">
				{banner.kind === 'hub' ? '⨯' : '!'}
			</span>
			<div className="banner-text">
				<strong>{banner.title}</strong>
				<span>
					<InlineCode text={banner.detail} />
				</span>
			</div>
			{banner.kind === 'hub' && (
				<div className="banner-actions">
					<span className="banner-retry">{retryIn === null ? 'Reconnecting…' : `Retrying in ${retryIn} s`}</span>
					<button type="button" className="button button-small" onClick={retryNow}>
						Retry now
					</button>
				</div>
			)}
		</div>
	);
}
