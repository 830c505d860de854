import { encode } from "uqr";

/**
 * A QR code as compact SVG: each row's dark modules merged into runs, so a Solana Pay URL's code
 * is a few KB instead of one element per module. Quiet zone of four modules, as the standard asks.
 */
export function qrSvg(text: string, label: string): string {
	const { data, size } = encode(text, { ecc: "M", border: 4 });
	let path = "";
	for (let y = 0; y < size; y++) {
		const row = data[y] as boolean[];
		let x = 0;
		while (x < size) {
			if (!row[x]) {
				x++;
				continue;
			}
			const start = x;
			while (x < size && row[x]) x++;
			path += `M${start} ${y}h${x - start}v1h${start - x}z`;
		}
	}
	const title = label.replace(/[<>&"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
	return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size}" role="img" aria-label="${title}" shape-rendering="crispEdges"><rect width="${size}" height="${size}" fill="#fff"/><path fill="#000" d="${path}"/></svg>`;
}
