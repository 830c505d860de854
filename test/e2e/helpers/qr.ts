import jsQR from "jsqr";
import { PNG } from "pngjs";

/**
 * Decodes the QR code in a PNG (an element screenshot of the rendered SVG). The image is laid on a
 * white margin first: the decoder needs a quiet zone, and an SVG drawn edge to edge has none.
 */
export function decodeQrPng(png: Buffer): string | null {
	const image = PNG.sync.read(png);
	const margin = 32;
	const width = image.width + 2 * margin;
	const height = image.height + 2 * margin;
	const padded = new Uint8ClampedArray(width * height * 4).fill(255);
	for (let y = 0; y < image.height; y++) {
		for (let x = 0; x < image.width; x++) {
			const from = (y * image.width + x) * 4;
			const to = ((y + margin) * width + x + margin) * 4;
			// Flatten transparency onto white, as the page shows it.
			const alpha = (image.data[from + 3] ?? 255) / 255;
			for (let c = 0; c < 3; c++)
				padded[to + c] = Math.round((image.data[from + c] ?? 255) * alpha + 255 * (1 - alpha));
			padded[to + 3] = 255;
		}
	}
	return jsQR(padded, width, height, { inversionAttempts: "attemptBoth" })?.data ?? null;
}
