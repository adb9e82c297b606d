import type { Metadata } from 'next';
import { PageHead } from '../../components/common/page-head.tsx';

export const metadata: Metadata = { title: 'Log in' };

/** Only a path on this hub; the hub checks again when the form comes back. */
function safeNext(next: string | string[] | undefined): string {
	return typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

/**
 * Where a browser lands when the hub needs its token. A plain form the hub answers itself
 * (POST /api/login): it sets an HttpOnly session cookie and sends the browser back to `next`.
 * No script is needed, and the token is never kept by the page.
 */
export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
	const params = await searchParams;
	const failed = params.failed === '1';
	return (
		<div className="page">
			<PageHead title="Log in">This hub needs its token: the one printed when it started, or given with --token.</PageHead>
			<form className="panel" method="post" action="/api/login" data-testid="login-form" style={{ padding: 16, maxWidth: 480 }}>
				<input type="hidden" name="next" value={safeNext(params.next)} />
				<label className="field">
					<span className="field-label">Token</span>
					<input
						className={failed ? 'input invalid' : 'input'}
						type="password"
						name="token"
						autoComplete="current-password"
						required
						autoFocus
						aria-invalid={failed}
						aria-describedby={failed ? 'login-failed' : undefined}
					/>
				</label>
				{failed ? (
					<p id="login-failed" role="alert" className="page-sub" style={{ color: 'var(--danger)' }}>
						That is not this hub&apos;s token.
					</p>
				) : null}
				<div style={{ marginTop: 12 }}>
					<button className="button button-primary" type="submit">
						Log in
					</button>
				</div>
			</form>
		</div>
	);
}
