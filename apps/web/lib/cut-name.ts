/**
 * Cuts a function name to fit `maxChars`, dropping from the left so the function's own name stays
 * visible: `std::vector<int>::push_back(int const&)` becomes `…push_back(int const&)`, and a name
 * whose method alone does not fit keeps the method's start. A long argument list goes first
 * (`…Foo::bar(…)`), since the method name says more than its parameters.
 */
export function cutName(name: string, maxChars: number): string {
	if (name.length <= maxChars) return name;
	if (maxChars <= 1) return maxChars === 1 ? '…' : '';
	// A JIT frame reads `function file:line`: the place goes before the function.
	const space = name.indexOf(' ');
	if (space > 0 && !/[(<]/.test(name.slice(0, space))) {
		const fn = name.slice(0, space);
		return fn.length + 2 <= maxChars ? `${fn} …` : cutName(fn, maxChars);
	}
	const args = argumentsStart(name);
	const head = args < 0 ? name : name.slice(0, args);
	const tail = args < 0 ? '' : name.slice(args);
	const room = maxChars - tail.length;
	if (!tail || room >= ownName(head).length + 1) return cutHead(head, room) + tail;
	// The arguments do not fit beside the method: `(…)` keeps it readable as a call.
	return cutHead(head, maxChars - 3) + '(…)';
}

/** The last `room` characters of `head` behind an ellipsis; the method's start when that is all that fits. */
function cutHead(head: string, room: number): string {
	if (room <= 0) return '…';
	if (head.length <= room) return head;
	const method = ownName(head);
	if (method.length > room - 1) return `${method.slice(0, Math.max(0, room - 1))}…`;
	// Never start on half of a `::`.
	return `…${head.slice(head.length - (room - 1)).replace(/^:+/, '')}`;
}

/** Where the outermost argument list starts (the `(` that matches a trailing `)`), or -1. */
function argumentsStart(name: string): number {
	let end = name.length - 1;
	// `foo(int) const`, `bar() [clone .isra.0]`: qualifiers after the arguments stay with them.
	while (end >= 0 && name[end] !== ')') end--;
	if (end < 0) return -1;
	let depth = 0;
	for (let i = end; i >= 0; i--) {
		const c = name[i];
		if (c === ')') depth++;
		else if (c === '(') {
			depth--;
			if (depth === 0) return i > 0 ? i : -1;
		}
	}
	return -1;
}

/** The method's own name: what follows the last `::` or `.` outside template brackets. */
function ownName(head: string): string {
	let depth = 0;
	for (let i = head.length - 1; i >= 0; i--) {
		const c = head[i];
		if (c === '>') depth++;
		else if (c === '<') depth--;
		else if (depth === 0 && (c === '.' || (c === ':' && head[i - 1] === ':'))) return head.slice(i + 1);
	}
	return head;
}
