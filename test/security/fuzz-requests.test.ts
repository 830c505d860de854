import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call, createMerchant, createPayment } from "../worker/helpers/api";
import { bodyFor, queryFor } from "./helpers/arbitraries";
import { expectHouseShape } from "./helpers/house";
import { FACTORIES, type Merchant } from "./helpers/objects";
import { fetchDocument, fill, label, type Operation, operations } from "./helpers/openapi";

// Property-based fuzzing of every request schema in the served document: random bodies, queries
// and path ids (near-valid values, wrong types, bounds, unicode, nulls, broken JSON) never get a
// 5xx, and every refusal is the house error with its request id. Seeded per route: deterministic.

const doc = await fetchDocument();
const ops = operations(doc);
// Bounded so the whole suite stays fast on two cores (about 400 requests in all): routes that take
// a body or a query get the most runs; a route with only a path id has little to vary.
function numRuns(op: Operation): number {
	return op.body || op.queryParams.length > 0 ? 8 : 3;
}

/** A stable seed per route, so a failure reproduces with the same inputs. */
function seedOf(text: string): number {
	let h = 2166136261;
	for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
	return h >>> 0;
}

let ip = 0;
/** Payer-facing routes are limited per client IP; each fuzzed request comes from its own. */
function nextIp(): string {
	ip++;
	return `203.0.${(ip >> 8) & 255}.${ip & 255}`;
}

describe("fuzzing every documented request, generated from /v1/openapi.json", () => {
	let m: Merchant;
	let paymentId: string;
	beforeAll(async () => {
		m = await createMerchant("Fuzz");
		paymentId = (await createPayment(m.sk)).id;
	});

	it.each(ops.map((op) => [label(op), op] as [string, Operation]))(
		"%s: never a 5xx, always the house error",
		async (name, op) => {
			// A merchant per route keeps every route under the per-key rate limit.
			const own = op.security === "bearer" ? await createMerchant("Fuzz route") : m;
			const real: Record<string, string> = {};
			const factory = FACTORIES[op.path];
			if (factory && op.security === "bearer") Object.assign(real, await factory(own));
			for (const p of op.pathParams)
				real[p] ??= p === "id" && op.path.startsWith("/admin") ? m.merchant.id : paymentId;
			const key =
				op.security === "admin" ? ADMIN_TOKEN : op.security === "bearer" ? own.sk : undefined;
			const ids = fc.record(
				Object.fromEntries(
					op.pathParams.map((p) => [
						p,
						fc.oneof(
							{ weight: 3, arbitrary: fc.constant(real[p] as string) },
							{ weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 40 }) },
							{ weight: 1, arbitrary: fc.constant(`${(real[p] as string).slice(0, -4)}ZZZZ`) },
						),
					]),
				),
			);
			const query = op.queryParams.length > 0 ? queryFor(op.queryParams) : fc.constant("");
			const body = op.body ? bodyFor(op.body) : fc.constant(undefined);
			await fc.assert(
				fc.asyncProperty(ids, query, body, async (params, q, raw) => {
					const path = `${fill(op.path, params as Record<string, string>)}${q ? `?${q}` : ""}`;
					const headers: Record<string, string> = { "CF-Connecting-IP": nextIp() };
					if (raw !== undefined) headers["Content-Type"] = "application/json";
					const res = await call(op.method, path, {
						key,
						headers,
						...(raw !== undefined ? { rawBody: raw } : {}),
					});
					const text = await res.text();
					const context = `${name}: ${op.method} ${path.slice(0, 200)} ${String(raw).slice(0, 300)}`;
					expect(res.status, `${context} → ${text.slice(0, 300)}`).toBeLessThan(500);
					if (res.status >= 400) expectHouseShape(res, text, context);
				}),
				{ numRuns: numRuns(op), seed: seedOf(name), endOnFailure: true },
			);
		},
	);
});
