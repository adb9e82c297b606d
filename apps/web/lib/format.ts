const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const compactFormat = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

export function formatInt(value: number): string {
	return integer.format(value);
}

export function formatCompact(value: number): string {
	return value < 10_000 ? integer.format(value) : compactFormat.format(value);
}

/** `12.3%`; below 0.1 but above zero shows `<0.1%` so small work is not mistaken for none. */
export function formatPercent(value: number): string {
	if (value > 0 && value < 0.1) return '<0.1%';
	return `${oneDecimal.format(value)}%`;
}

/** Sampling frequencies: whole hertz unless fractional. */
export function formatHz(value: number): string {
	return `${Number.isInteger(value) ? integer.format(value) : oneDecimal.format(value)} Hz`;
}

export function formatRate(value: number): string {
	return value >= 100 ? integer.format(value) : oneDecimal.format(value);
}

/** `5 s`, `3 min`, `2 h`: how long ago something happened. */
export function formatAgo(ms: number): string {
	const seconds = Math.max(0, Math.round(ms / 1000));
	if (seconds < 60) return `${seconds} s`;
	const minutes = Math.round(seconds / 60);
	if (minutes < 60) return `${minutes} min`;
	const hours = Math.round(minutes / 60);
	if (hours < 48) return `${hours} h`;
	return `${Math.round(hours / 24)} d`;
}

const dateTime = new Intl.DateTimeFormat('en-GB', {
	month: 'short',
	day: 'numeric',
	hour: '2-digit',
	minute: '2-digit',
	second: '2-digit',
	hour12: false,
});

export function formatDateTime(ms: number): string {
	return dateTime.format(new Date(ms));
}

const clock = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });

export function formatClock(ms: number): string {
	return clock.format(new Date(ms));
}
