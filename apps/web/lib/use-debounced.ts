import { useEffect, useState } from 'react';

/** `value`, once it has stopped changing for `ms`: typing applies after a pause, not per keystroke. */
export function useDebounced<T>(value: T, ms: number): T {
	const [debounced, setDebounced] = useState(value);
	useEffect(() => {
		const timer = setTimeout(() => setDebounced(value), ms);
		return () => clearTimeout(timer);
	}, [value, ms]);
	return debounced;
}
