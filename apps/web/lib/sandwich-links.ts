import { profileHref, type ProfileQueryState, type QueryWarning } from './profile-query.ts';

/**
 * Sandwich links: `/sandwich?fn=NAME[&module=M]` followed by the Profiles page's query, or
 * `/s/<id>/sandwich?fn=NAME[&module=M]` for a share. The profile query rides along so the
 * sandwich reads the same samples as the page it was opened from.
 */
export interface SandwichTarget {
	name: string;
	module?: string | undefined;
}

function functionParams(target: SandwichTarget): URLSearchParams {
	const params = new URLSearchParams({ fn: target.name });
	if (target.module) params.set('module', target.module);
	return params;
}

export function sandwichHref(target: SandwichTarget, query: Pick<ProfileQueryState, 'range' | 'pid' | 'comm' | 'hosts'>): string {
	const profile = profileHref(query);
	const rest = profile.includes('?') ? profile.slice(profile.indexOf('?') + 1) : '';
	return `/sandwich?${functionParams(target).toString()}${rest ? `&${rest}` : ''}`;
}

export function shareSandwichHref(id: string, target: SandwichTarget): string {
	return `/s/${id}/sandwich?${functionParams(target).toString()}`;
}

export function parseSandwichTarget(params: { get(name: string): string | null }): SandwichTarget | null {
	const name = params.get('fn')?.trim();
	if (!name) return null;
	const module = params.get('module')?.trim();
	return module ? { name, module } : { name };
}

/**
 * What the sandwich did not honour of the Profiles query in its link (`pid=abc` shows every
 * process): the profile query's warnings, but for the sandwich's own parameters.
 */
export function sandwichQueryWarnings(warnings: readonly QueryWarning[]): QueryWarning[] {
	return warnings.filter((w) => w.param !== 'fn' && w.param !== 'module');
}
