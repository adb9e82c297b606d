import type { BackendUnderTest } from './backend.ts';
import { cacheBudgetConformance } from './cache-budget.ts';
import { connectionConformance } from './connections.ts';
import { farBoundsConformance } from './far-bounds.ts';
import { ingestedConformance } from './ingested.ts';
import { profileConformance } from './profiles.ts';
import { profileLabelConformance } from './profile-labels.ts';
import { requestConformance } from './requests.ts';
import { shareConformance } from './shares.ts';

export type { BackendUnderTest, OpenedStorage } from './backend.ts';

/**
 * What every storage backend promises, as node:test tests. A backend's test file calls this
 * once; checks only one backend can make (its files, its schema) sit beside that backend.
 */
export function storageConformance(backend: BackendUnderTest): void {
	profileConformance(backend);
	profileLabelConformance(backend);
	connectionConformance(backend);
	requestConformance(backend);
	shareConformance(backend);
	ingestedConformance(backend);
	farBoundsConformance(backend);
	cacheBudgetConformance(backend);
}
