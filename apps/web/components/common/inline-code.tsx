import { Fragment } from 'react';

/** Renders `backticked` parts of a sentence as code, so messages can name commands. */
export function InlineCode({ text }: { text: string }) {
	const parts = text.split('`');
	return <>{parts.map((part, index) => (index % 2 === 1 ? <code key={index}>{part}</code> : <Fragment key={index}>{part}</Fragment>))}</>;
}
