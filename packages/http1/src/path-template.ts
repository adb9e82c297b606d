/**
 * The endpoint a request path belongs to: the query is dropped and segments that look like
 * identifiers (numbers, UUIDs, long hex or base64-ish tokens, mixed letters and digits) become
 * `:id`, so `/users/123/orders/9f3a0c1d` and `/users/7/orders/aa01ff9e` are one endpoint.
 */
export function templatePath(url: string): string {
	let path = url;
	// An absolute-form target (proxies): keep the path only.
	const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(path);
	if (abs) path = path.slice(abs[0].length) || '/';
	const cut = path.search(/[?#]/);
	if (cut >= 0) path = path.slice(0, cut);
	if (path === '' || path === '*') return path || '/';
	return path
		.split('/')
		.map((seg) => (isIdentifier(seg) ? ':id' : seg))
		.join('/');
}

const NUMBER = /^[-+]?\d+(?:\.\d+)?$/;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const HEX = /^(?:0x)?[0-9a-f]{6,}$/i;
const TOKEN = /^[A-Za-z0-9_-]{16,}={0,2}$/;

function isIdentifier(raw: string): boolean {
	if (raw === '') return false;
	let seg = raw;
	try {
		seg = decodeURIComponent(raw);
	} catch {
		// keep it raw
	}
	if (NUMBER.test(seg) || UUID.test(seg)) return true;
	// Hex runs count only with a digit in them, so words like `deadbeef`-free `facade` stay.
	if (HEX.test(seg) && /\d/.test(seg)) return true;
	// Long tokens with both letters and digits: ids, hashes, base64 keys.
	if (TOKEN.test(seg) && /\d/.test(seg) && /[A-Za-z]/.test(seg)) return true;
	// Short mixed segments with more digits than letters (`v2` stays, `a1b2c3` goes).
	const digits = seg.replace(/\D/g, '').length;
	return seg.length >= 4 && /^[A-Za-z0-9_-]+$/.test(seg) && digits * 2 > seg.length;
}
