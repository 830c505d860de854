/**
 * IP address text to numbers, shared by the webhook URL guard (which range a host is in) and the
 * risk rules (an address inside a CIDR block).
 */

/**
 * Four octets of dotted decimal, or null. Only the canonical form: the URL parser has already
 * turned 0x7f.1, 2130706433 and friends into dotted decimal.
 */
export function parseIpv4(host: string): number[] | null {
	const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
	if (!match) return null;
	const octets = match.slice(1).map(Number);
	return octets.every((o) => o <= 255) ? octets : null;
}

/** Eight 16-bit groups, or null. Accepts `::` compression and a trailing dotted IPv4. */
export function parseIpv6(text: string): number[] | null {
	let rest = text.toLowerCase();
	const tail: number[] = [];
	const dotted = /(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(rest);
	if (dotted) {
		const v4 = parseIpv4(dotted[1] as string);
		if (!v4) return null;
		tail.push(
			((v4[0] as number) << 8) | (v4[1] as number),
			((v4[2] as number) << 8) | (v4[3] as number),
		);
		rest = rest.slice(0, -(dotted[1] as string).length);
		if (rest.endsWith(":") && !rest.endsWith("::")) rest = rest.slice(0, -1);
	}
	const halves = rest.split("::");
	if (halves.length > 2) return null;
	const parse = (part: string) =>
		part === ""
			? []
			: part.split(":").map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN));
	const head = parse(halves[0] as string);
	const after = halves.length === 2 ? parse(halves[1] as string) : [];
	const known = head.length + after.length + tail.length;
	if ([...head, ...after].some(Number.isNaN)) return null;
	if (halves.length === 1 && known !== 8) return null;
	if (halves.length === 2 && known > 7) return null;
	return [...head, ...new Array(8 - known).fill(0), ...after, ...tail];
}
