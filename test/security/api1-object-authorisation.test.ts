import { beforeAll, describe, expect, it } from "vitest";
import { call, createMerchant } from "../worker/helpers/api";
import { expectHouseShape } from "./helpers/house";
import { FACTORIES, type Merchant, VALID_BODIES } from "./helpers/objects";
import { fetchDocument, fill, label, type Operation, operations } from "./helpers/openapi";

// OWASP API1:2023 Broken Object Level Authorization. Generated from the served OpenAPI document:
// every keyed route with a path parameter is called for merchant A's object with merchant B's keys
// and with A's own key of the other mode. The answer is always what an id that never existed gets.

const doc = await fetchDocument();
const ops = operations(doc);

/** Keyless routes addressed by a payment id the payer was given: public by design. */
const PUBLIC_BY_DESIGN: Record<string, string> = {
	"/checkout/{id}/sign-in/challenge": "payer sign-in on a checkout page",
	"/checkout/{id}/sign-in": "payer sign-in on a checkout page",
	"/checkout/{id}/me": "the signed-in payer's own session",
	"/checkout/{id}/sign-out": "the signed-in payer's own session",
	"/solana-pay/{id}": "Solana Pay transaction request, fetched by the payer's wallet",
};

const keyed = ops.filter((op) => op.security === "bearer" && op.pathParams.length > 0);

/** Swaps each id for one of the same kind that was never issued. */
function neverIssued(params: Record<string, string>): Record<string, string> {
	return Object.fromEntries(
		Object.entries(params).map(([k, v]) => [k, v.replace(/[0-9A-Z]{6}$/, "ZZZZZZ")]),
	);
}

async function missing(res: Response, context: string): Promise<string> {
	const text = await res.text();
	expect(res.status, `${context}: ${text.slice(0, 300)}`).toBe(404);
	expect(expectHouseShape(res, text, context)).toBe("resource_missing");
	return (JSON.parse(text) as { error: { message: string } }).error.message;
}

describe("API1 object-level authorisation, generated from /v1/openapi.json", () => {
	it("finds the keyed routes with path parameters in the document", () => {
		expect(keyed.length).toBeGreaterThanOrEqual(10);
	});

	it("classifies every keyless route with a path parameter as public by design", () => {
		const unclassified = ops
			.filter((op) => op.security === "public" && op.pathParams.length > 0)
			.map((op) => op.path)
			.filter((path) => !(path in PUBLIC_BY_DESIGN));
		expect(
			unclassified,
			"A keyless route with a path parameter: give it a key, or list it in PUBLIC_BY_DESIGN with the reason",
		).toEqual([]);
	});

	it.each(keyed.map((op) => [label(op), op] as [string, Operation]))(
		"%s answers 404 resource_missing to another merchant and to the other mode",
		async (_label, op) => {
			const factory = FACTORIES[op.path];
			if (!factory) {
				throw new Error(
					`${label(op)} has no object factory: add one for '${op.path}' to FACTORIES in ` +
						"test/security/helpers/objects.ts so its object-level authorisation is tested.",
				);
			}
			const [a, b] = await Promise.all([createMerchant("A"), createMerchant("B")]);
			const params = await factory(a);
			const body = op.body ? (VALID_BODIES[label(op)] ?? {}) : undefined;
			const ids = Object.values(params);
			const never = neverIssued(params);
			const unknownMessage = await missing(
				await call(op.method, fill(op.path, never), { key: b.sk, body }),
				`${label(op)} with an id never issued`,
			);
			const attackers: [string, string][] = [
				["merchant B's test key", b.sk],
				["merchant B's live key", b.skLive],
				["merchant A's live key", a.skLive],
			];
			for (const [who, key] of attackers) {
				const message = await missing(
					await call(op.method, fill(op.path, params), { key, body }),
					`${label(op)} with ${who}`,
				);
				// Word for word what a never-issued id gets: existence is not revealed.
				let normalised = message;
				for (const [k, id] of Object.entries(params))
					normalised = normalised.replaceAll(id, never[k] as string);
				expect(normalised, `${label(op)} with ${who}`).toBe(unknownMessage);
			}
			// The control: the owner reaches the object (so the 404s above are about ownership).
			const own = await call(op.method, fill(op.path, params), { key: a.sk, body });
			const text = await own.text();
			expect(own.status, `${label(op)} with A's own key: ${text.slice(0, 300)}`).not.toBe(404);
			expect(own.status, `${label(op)} with A's own key: ${text.slice(0, 300)}`).toBeLessThan(500);
			expect(ids.length).toBeGreaterThan(0);
		},
	);
});

describe("API1/API3 lists and singletons never show another merchant's objects", () => {
	const reads = ops.filter(
		(op) => op.security === "bearer" && op.method === "GET" && op.pathParams.length === 0,
	);
	let a: Merchant;
	let b: Merchant;
	const secrets: string[] = [];

	beforeAll(async () => {
		[a, b] = await Promise.all([createMerchant("A"), createMerchant("B")]);
		secrets.push(a.merchant.id, ...a.keys.map((k) => k.id));
		for (const factory of new Set(Object.values(FACTORIES)))
			secrets.push(...Object.values(await factory(a)));
	});

	it.each(reads.map((op) => [label(op), op] as [string, Operation]))(
		"%s with merchant B's key contains none of merchant A's ids",
		async (_label, op) => {
			for (const key of [b.sk, b.skLive]) {
				const res = await call("GET", op.path, { key });
				const text = await res.text();
				expect(res.status, `${label(op)}: ${text.slice(0, 300)}`).toBeLessThan(500);
				for (const id of secrets) expect(text, `${label(op)} leaks ${id}`).not.toContain(id);
			}
		},
	);
});
