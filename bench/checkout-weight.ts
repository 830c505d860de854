/**
 * `npm run bench:checkout`: what a payer's phone downloads to open a checkout, measured on the
 * real page from `wrangler dev`: the HTML (with its QR code), the script and the stylesheet,
 * raw and gzip-compressed, for a crypto-only and a crypto-and-card payment. Writes
 * bench/results/checkout-weight.json. The budget is 100 KB compressed.
 */
import { gzipSync } from "node:zlib";
import { LocalStack } from "../scripts/lib/local-stack.js";
import { writeResult } from "./lib/report.js";

const BUDGET = 100 * 1024;

async function weigh(base: string, paymentId: string) {
	const html = await (await fetch(`${base}/checkout/${paymentId}`)).text();
	const assets = [...html.matchAll(/(?:src|href)="(\/checkout\/assets\/[^"]+)"/g)].map(
		(m) => m[1] as string,
	);
	const files = [{ name: "html", text: html }];
	for (const path of assets) {
		files.push({
			name: path.endsWith(".js") ? "script" : "stylesheet",
			text: await (await fetch(`${base}${path}`)).text(),
		});
	}
	const parts = files.map((f) => ({
		name: f.name,
		bytes: Buffer.byteLength(f.text),
		gzip_bytes: gzipSync(f.text, { level: 6 }).byteLength,
	}));
	return { parts, total_gzip_bytes: parts.reduce((s, p) => s + p.gzip_bytes, 0) };
}

async function main(): Promise<void> {
	const stack = new LocalStack({ name: "bench-checkout", say: (l) => console.log(l) });
	try {
		await stack.start();
		const merchant = await stack.createMerchant("Weight Bench");
		const create = async (body: Record<string, unknown>) => {
			const res = await fetch(`${stack.gatewayUrl}/v1/payments`, {
				method: "POST",
				headers: {
					Authorization: `Bearer ${merchant.secretKey}`,
					"Content-Type": "application/json",
				},
				body: JSON.stringify({ amount: 2500, currency: "usd", description: "Order 1042", ...body }),
			});
			const created = (await res.json()) as { id?: string };
			if (!res.ok || !created.id)
				throw new Error(`payment create failed: ${res.status} ${JSON.stringify(created)}`);
			return created.id;
		};
		const crypto = await weigh(
			stack.gatewayUrl,
			await create({ payment_method_types: ["solana"], solana: { token: "USDC" } }),
		);
		const both = await weigh(
			stack.gatewayUrl,
			await create({ payment_method_types: ["solana", "card"], solana: { token: "USDC" } }),
		);
		const result = {
			measured_at: new Date().toISOString(),
			budget_gzip_bytes: BUDGET,
			crypto_only: crypto,
			crypto_and_card: both,
		};
		const kb = (bytes: number) => Math.round((bytes / 1024) * 10) / 10;
		const worst = Math.max(crypto.total_gzip_bytes, both.total_gzip_bytes);
		writeResult({
			name: "checkout-weight",
			title: "Checkout page weight: what a payer's phone downloads to open a checkout",
			targets: [
				{
					name: `page ≤ ${BUDGET / 1024} KB compressed`,
					met: worst <= BUDGET,
					detail: `${kb(crypto.total_gzip_bytes)} KB crypto only, ${kb(both.total_gzip_bytes)} KB with the card tab`,
				},
			],
			tables: [
				{
					title: "Checkout page (gzip level 6)",
					columns: ["Part", "crypto only KB", "gzip KB", "crypto and card KB", "gzip KB"],
					rows: [
						...crypto.parts.map((p, i) => {
							const q = both.parts[i];
							return [
								p.name,
								kb(p.bytes),
								kb(p.gzip_bytes),
								kb(q?.bytes ?? 0),
								kb(q?.gzip_bytes ?? 0),
							];
						}),
						["total", "", kb(crypto.total_gzip_bytes), "", kb(both.total_gzip_bytes)],
					],
				},
			],
			data: result,
		});
		for (const [label, w] of [
			["crypto only", crypto],
			["crypto and card", both],
		] as const) {
			console.log(
				`${label}: ${w.parts.map((p) => `${p.name} ${(p.gzip_bytes / 1024).toFixed(1)} KB`).join(", ")}; total ${(w.total_gzip_bytes / 1024).toFixed(1)} KB gzip`,
			);
		}
		if (Math.max(crypto.total_gzip_bytes, both.total_gzip_bytes) > BUDGET) process.exitCode = 1;
	} finally {
		await stack.stop();
	}
}

await main();
