import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import type { LocalMerchant, LocalStack } from "../../scripts/lib/local-stack.js";
import { REPO_ROOT } from "../../scripts/lib/paths.js";
import { pool } from "./stats.js";

// Stored payments for the load benchmark. The payments it reads by id are created through the
// API (a Durable Object each, projected to D1 by its outbox). The rest are filler rows written
// straight into the local D1 file: copies of a real row under new ids, so lists and indexes see
// the table size without paying for thousands of Durable Objects.

const run = promisify(execFile);

/** The body every benchmark payment is created with: a card payment (no Solana watcher polling). */
export const CARD_PAYMENT = { amount: 2500, currency: "usd", payment_method_types: ["card"] };

/** The local D1 state of a running stack (LocalStack keeps it in `<temp dir>/state`). */
export function persistDir(stack: LocalStack): string {
	const dir = join(dirname(stack.logPath), "state");
	if (!existsSync(dir)) throw new Error(`no local D1 state at ${dir}`);
	return dir;
}

/** Runs SQL against the stack's local D1 through `wrangler d1 execute --local`. */
export async function d1(stack: LocalStack, sql: string): Promise<Record<string, unknown>[]> {
	const wrangler = join(REPO_ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
	const { stdout } = await run(
		process.execPath,
		[
			wrangler,
			"d1",
			"execute",
			"DB",
			"--local",
			"--persist-to",
			persistDir(stack),
			"--json",
		].concat(["--command", sql]),
		{
			cwd: REPO_ROOT,
			env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
			maxBuffer: 16 * 1024 * 1024,
			timeout: 120_000,
		},
	);
	const parsed = JSON.parse(stdout) as { results: Record<string, unknown>[] }[];
	return parsed.flatMap((p) => p.results);
}

export async function storedPayments(stack: LocalStack, merchantId: string): Promise<number> {
	const rows = await d1(
		stack,
		`SELECT count(*) AS n FROM payments WHERE merchant_id = '${merchantId}' AND livemode = 0`,
	);
	return Number(rows[0]?.n ?? 0);
}

/** `count` more test-mode secret keys for the merchant (the rate limit is per key). */
export async function extraSecretKeys(
	stack: LocalStack,
	merchant: LocalMerchant,
	count: number,
): Promise<string[]> {
	return pool(
		Array.from({ length: count }, (_, i) => i),
		4,
		async () => {
			const res = await fetch(
				`${stack.gatewayUrl}/admin/v1/merchants/${merchant.merchant.id}/keys`,
				{
					method: "POST",
					headers: {
						Authorization: `Bearer ${stack.adminToken}`,
						"Content-Type": "application/json",
					},
					body: JSON.stringify({ type: "secret", livemode: false }),
					signal: stack.signal,
				},
			);
			const key = (await res.json()) as { secret?: string };
			if (res.status !== 201 || !key.secret) throw new Error(`key create failed: ${res.status}`);
			return key.secret;
		},
	);
}

/** Creates `count` payments through `POST /v1/payments`, `concurrency` at a time; their ids. */
export async function createPayments(
	stack: LocalStack,
	keys: string[],
	count: number,
	concurrency: number,
	body: Record<string, unknown> = CARD_PAYMENT,
): Promise<string[]> {
	return pool(
		Array.from({ length: count }, (_, i) => i),
		concurrency,
		async (i) => {
			const res = await fetch(`${stack.gatewayUrl}/v1/payments`, {
				method: "POST",
				headers: {
					Authorization: `Bearer ${keys[i % keys.length]}`,
					"Content-Type": "application/json",
				},
				body: JSON.stringify(body),
				signal: stack.signal,
			});
			const payment = (await res.json()) as { id?: string };
			if (!res.ok || !payment.id) throw new Error(`payment create failed: ${res.status}`);
			return payment.id;
		},
	);
}

/** Waits until D1 holds at least `count` of the merchant's payments (outboxes drain async). */
export async function waitForProjection(
	stack: LocalStack,
	merchantId: string,
	count: number,
	timeoutMs = 120_000,
): Promise<number> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const stored = await storedPayments(stack, merchantId);
		if (stored >= count) return stored;
		if (Date.now() > deadline) {
			throw new Error(`D1 holds ${stored} payments after ${timeoutMs} ms, expected ${count}`);
		}
		await new Promise((r) => setTimeout(r, 500));
	}
}

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** The 10-character time part of an id (Crockford base32 milliseconds, as src/domain/ids.ts). */
export function idTimePart(ms: number): string {
	let out = "";
	let rest = ms;
	for (let i = 0; i < 10; i++) {
		out = ALPHABET[rest % 32] + out;
		rest = Math.floor(rest / 32);
	}
	return out;
}

/**
 * Adds filler payments until the merchant has `target` stored: one recursive-CTE INSERT of
 * copies of `templateId`'s row, with ids 30 days old (older than every real payment, valid
 * `pay_` ids) and the id replaced inside the stored JSON too. Returns the count after.
 */
export async function fillTo(
	stack: LocalStack,
	merchantId: string,
	templateId: string,
	target: number,
): Promise<number> {
	const before = await storedPayments(stack, merchantId);
	const missing = target - before;
	if (missing <= 0) return before;
	const at = Date.now() - 30 * 24 * 60 * 60 * 1000;
	const prefix = `pay_${idTimePart(at)}`;
	const created = Math.floor(at / 1000);
	// Suffixes continue from the rows already there, so every top-up writes new ids.
	await d1(
		stack,
		`WITH RECURSIVE seq(n) AS (SELECT ${before} UNION ALL SELECT n + 1 FROM seq WHERE n < ${before + missing - 1})
		 INSERT INTO payments (id, merchant_id, livemode, status, amount, currency, amount_received,
		   amount_refunded, version, expires_at, created, updated, customer_id, data)
		 SELECT '${prefix}' || printf('%020d', seq.n), p.merchant_id, p.livemode, p.status, p.amount,
		   p.currency, p.amount_received, p.amount_refunded, p.version, p.expires_at, ${created},
		   ${created}, p.customer_id, replace(p.data, p.id, '${prefix}' || printf('%020d', seq.n))
		 FROM seq CROSS JOIN payments p WHERE p.id = '${templateId}'`,
	);
	return storedPayments(stack, merchantId);
}
