import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call, createMerchant, createPayment, json } from "../worker/helpers/api";
import { expectHouseShape } from "./helpers/house";
import {
	customerOf,
	paymentLinkOf,
	payoutDestinationOf,
	webhookEndpointOf,
} from "./helpers/objects";
import {
	fetchDocument,
	fill,
	label,
	type Operation,
	operations,
	type SchemaObject,
} from "./helpers/openapi";

// OWASP API3:2023 Broken Object Property Level Authorization. Mass assignment: every request body
// in the document is strict, and fields the gateway owns (status, amounts received, mode, owner,
// id) are refused as unknown parameters on every create and update. Exposure: responses carry no
// owner or secret fields, and payer-facing views never carry the merchant's metadata.

const doc = await fetchDocument();
const withBody = operations(doc).filter((op) => op.body !== undefined);

/** Bodies a third party defines, so unknown keys are tolerated on purpose. */
const LENIENT_BY_DESIGN: Record<string, string> = {
	"POST /solana-pay/{id}":
		"Solana Pay transaction request: wallets may send fields beyond 'account'",
};

/** A body each route accepts, to which one forbidden field at a time is added. */
const VALID_BODIES: Record<string, Record<string, unknown>> = {
	"POST /admin/v1/merchants": { name: "Acme" },
	"POST /admin/v1/merchants/{id}/keys": { type: "secret", livemode: false },
	"POST /admin/v1/merchants/{id}/invitations": { email: "new@team.example" },
	"POST /v1/payments": { amount: 2500, currency: "usd" },
	"POST /v1/payments/{id}/quote": { token: "SOL" },
	"POST /v1/refunds": { payment: "pay_00000000000000000000000000" },
	"POST /v1/payouts": { amount: 100, currency: "usd" },
	"POST /v1/payout_destinations": { type: "stripe_account" },
	"POST /v1/payout_destinations/challenges": {
		address: "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM",
	},
	"POST /v1/payout_destinations/{id}": { default: true },
	"POST /v1/reports": { type: "settlement", from: "2026-01-01", to: "2026-01-01" },
	"POST /v1/payment_links": { amount: 2500, currency: "usd" },
	"PUT /v1/routing_rules": { strategy: "first_match", rules: [] },
	"POST /v1/routing_rules/preview": { amount: 1000, currency: "usd" },
	"POST /v1/webhook_endpoints": { url: "https://shop.example/hooks", enabled_events: ["*"] },
	"POST /checkout/{id}/sign-in/challenge": {
		address: "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM",
	},
	"POST /checkout/{id}/sign-in": {
		address: "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM",
		signed_message: btoa("streampayments.test wants you to sign in"),
		signature: btoa("\0".repeat(64)),
	},
};

const OWNED_FIELDS: [string, unknown][] = [
	["id", "pay_00000000000000000000000000"],
	["object", "payment"],
	["status", "succeeded"],
	["amount_received", 2500],
	["amount_refunded", 0],
	["livemode", true],
	["merchant_id", "mch_00000000000000000000000000"],
	["merchant", "mch_00000000000000000000000000"],
	["created", 1],
	["version", 99],
];

function strictEverywhere(schema: SchemaObject, at: string): string[] {
	const loose: string[] = [];
	const isObject = schema.type === "object" || schema.properties !== undefined;
	if (isObject && schema.properties && schema.additionalProperties !== false)
		loose.push(at || "(body)");
	for (const [k, v] of Object.entries(schema.properties ?? {}))
		loose.push(...strictEverywhere(v, at ? `${at}.${k}` : k));
	if (schema.items) loose.push(...strictEverywhere(schema.items, `${at}[]`));
	for (const s of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])])
		loose.push(...strictEverywhere(s, at));
	return loose;
}

function keyFor(op: Operation, sk: string): string | undefined {
	return op.security === "admin" ? ADMIN_TOKEN : op.security === "bearer" ? sk : undefined;
}

describe("API3 mass assignment, generated from /v1/openapi.json", () => {
	it.each(withBody.map((op) => [label(op), op] as [string, Operation]))(
		"%s documents a strict body, down to nested objects",
		(name, op) => {
			if (name in LENIENT_BY_DESIGN) return;
			expect(
				strictEverywhere(op.body as SchemaObject, ""),
				`${name}: objects without additionalProperties: false`,
			).toEqual([]);
		},
	);

	it.each(
		withBody
			.filter((op) => !(label(op) in LENIENT_BY_DESIGN))
			.map((op) => [label(op), op] as [string, Operation]),
	)("%s refuses every field the gateway owns as an unknown parameter", async (name, op) => {
		const m = await createMerchant();
		const payment = await createPayment(m.sk);
		// Validation comes before any lookup, so the id need not be the right kind of object.
		const path = fill(op.path, Object.fromEntries(op.pathParams.map((p) => [p, payment.id])));
		const base = VALID_BODIES[name] ?? {};
		const documented = new Set(Object.keys(op.body?.properties ?? {}));
		for (const [field, value] of OWNED_FIELDS) {
			if (documented.has(field)) continue;
			const res = await call(op.method, path, {
				key: keyFor(op, m.sk),
				body: { ...base, [field]: value },
			});
			const text = await res.text();
			const context = `${name} with '${field}' (if another parameter is named, add a valid body for this route to VALID_BODIES)`;
			expect(res.status, `${context}: ${text}`).toBe(400);
			expect(expectHouseShape(res, text, context)).toBe("parameter_invalid");
			expect(JSON.parse(text).error.param, `${context}: ${text}`).toBe(field);
		}
		// Nothing about the payment changed.
		const after = await json<{ status: string; amount_received: number; livemode: boolean }>(
			await call("GET", `/v1/payments/${payment.id}`, { key: m.sk }),
		);
		expect(after).toMatchObject({
			status: "requires_payment",
			amount_received: 0,
			livemode: false,
		});
	});
});

describe("API3 excessive data exposure", () => {
	it("keeps owner ids, key hashes and stored secrets out of every object the API returns", async () => {
		const m = await createMerchant();
		const objects = [
			`/v1/payments/${(await createPayment(m.sk, { metadata: { order: "1" } })).id}`,
			`/v1/customers/${(await customerOf(m)).id}`,
			`/v1/payment_links/${(await paymentLinkOf(m)).id}`,
			`/v1/webhook_endpoints/${(await webhookEndpointOf(m)).id}`,
			`/v1/payout_destinations/${(await payoutDestinationOf(m)).id}`,
			"/v1/payout_destinations",
			"/v1/settings",
			"/v1/events",
		];
		for (const path of objects) {
			const text = await (await call("GET", path, { key: m.sk })).text();
			expect(text, path).not.toContain(m.merchant.id);
			expect(text, path).not.toMatch(/"(merchant_id|hash|secret_hash|encrypted_secret)"/);
			expect(text, path).not.toMatch(/whsec_/);
			for (const key of m.keys) expect(text, path).not.toContain(key.secret);
		}
	});

	it("never shows the merchant's metadata or description on payer-facing pages", async () => {
		const m = await createMerchant();
		const marker = "MERCHANT-ONLY-4b1e";
		const p = await createPayment(m.sk, {
			metadata: { internal_note: marker, [`k_${marker}`]: "v" },
		});
		const link = await json<{ id: string; url: string }>(
			await call("POST", "/v1/payment_links", {
				key: m.sk,
				body: { amount: 2500, currency: "usd", metadata: { internal_note: marker } },
			}),
		);
		const pages = [
			`/checkout/${p.id}`,
			`/checkout/${p.id}/status`,
			`/checkout/${p.id}/qr.svg`,
			`/solana-pay/${p.id}`,
			`/l/${link.id}`,
		];
		for (const page of pages) {
			const res = await call("GET", page, { headers: { "CF-Connecting-IP": "198.51.100.3" } });
			const text = await res.text();
			expect(res.status, `${page}: ${text.slice(0, 200)}`).toBeLessThan(500);
			expect(text, page).not.toContain(marker);
			expect(text, page).not.toContain(m.merchant.id);
		}
	});
});
