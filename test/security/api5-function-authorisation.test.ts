import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { call, createMerchant } from "../worker/helpers/api";
import { expectHouseShape } from "./helpers/house";
import { fetchDocument, fill, label, type Operation, operations } from "./helpers/openapi";

// OWASP API5:2023 Broken Function Level Authorization: the operator's /admin functions answer
// nothing but the admin token. Merchant keys of every kind and mode, no token, a wrong token and
// near misses are all refused (401, or 404 where an operator turned the admin API off).

const doc = await fetchDocument();
const adminOps = operations(doc).filter((op) => op.security === "admin");

describe("API5 function-level authorisation on /admin, generated from /v1/openapi.json", () => {
	it("finds the admin routes in the document, and every /admin path is marked adminAuth", () => {
		expect(adminOps.length).toBeGreaterThanOrEqual(7);
		const unmarked = operations(doc)
			.filter((op) => op.path.startsWith("/admin") && op.security !== "admin")
			.map(label);
		expect(unmarked).toEqual([]);
	});

	it.each(adminOps.map((op) => [label(op), op] as [string, Operation]))(
		"%s refuses merchant keys and anything but the admin token",
		async (_label, op) => {
			const m = await createMerchant("Intruder");
			const path = fill(
				op.path,
				Object.fromEntries(
					op.pathParams.map((p) => [p, p === "key" ? (m.keys[0]?.id ?? "") : m.merchant.id]),
				),
			);
			const attempts: [string, string | undefined][] = [
				["no token", undefined],
				["merchant test secret key", `Bearer ${m.sk}`],
				["merchant live secret key", `Bearer ${m.skLive}`],
				["merchant publishable key", `Bearer ${m.pk}`],
				["a wrong token", "Bearer test-admin-token-but-not-quite"],
				["a prefix of the token", "Bearer test-admin"],
				["the token with a trailing character", "Bearer test-admin-tokenx"],
				["the token as Basic", `Basic ${btoa("admin:test-admin-token")}`],
				["the token in another case", "Bearer TEST-ADMIN-TOKEN"],
			];
			for (const [name, header] of attempts) {
				const res = await call(op.method, path, {
					headers: header === undefined ? {} : { Authorization: header },
					...(op.body ? { body: { name: "Taken over", type: "secret", livemode: true } } : {}),
				});
				const text = await res.text();
				const context = `${label(op)} with ${name}`;
				expect([401, 404], `${context}: ${text.slice(0, 300)}`).toContain(res.status);
				expect(expectHouseShape(res, text, context), context).toMatch(
					/^(api_key_missing|api_key_invalid|route_not_found)$/,
				);
			}
			// Nothing changed: the merchant still has the name and keys it was created with.
			const keys = await call("GET", `/admin/v1/merchants/${m.merchant.id}/keys`, {
				key: "test-admin-token",
			});
			expect(((await keys.json()) as { data: unknown[] }).data).toHaveLength(m.keys.length);
			const merchant = await call("GET", `/admin/v1/merchants/${m.merchant.id}`, {
				key: "test-admin-token",
			});
			expect(((await merchant.json()) as { name: string }).name).toBe("Intruder");
		},
	);

	it("does not serve the admin API under /v1 to a merchant key", async () => {
		const m = await createMerchant();
		for (const op of adminOps) {
			const path = fill(
				op.path.replace(/^\/admin/, ""),
				Object.fromEntries(op.pathParams.map((p) => [p, m.merchant.id])),
			);
			const res = await call(op.method, path, { key: m.sk, ...(op.body ? { body: {} } : {}) });
			const text = await res.text();
			expect(res.status, `${op.method} ${path}`).toBe(404);
			// An admin path may also read as a merchant route's object (/v1/reports/summary is the
			// report "summary"): a 404 either way, with nothing of the admin API in it.
			expect(["route_not_found", "resource_missing"]).toContain(expectHouseShape(res, text, path));
		}
	});

	it("answers every admin route like an unknown URL when ADMIN_TOKEN is unset, whatever is sent", async () => {
		const off = { ...env, ADMIN_TOKEN: undefined } as unknown as typeof env;
		for (const op of adminOps) {
			const path = fill(
				op.path,
				Object.fromEntries(op.pathParams.map((p) => [p, "mch_00000000000000000000000000"])),
			);
			for (const header of [
				undefined,
				"Bearer ",
				"Bearer undefined",
				"Bearer null",
				"Bearer test-admin-token",
			]) {
				const ctx = createExecutionContext();
				const res = await worker.fetch(
					new Request(`http://gateway.test${path}`, {
						method: op.method,
						headers: {
							"Content-Type": "application/json",
							...(header === undefined ? {} : { Authorization: header }),
						},
						...(op.body ? { body: "{}" } : {}),
					}),
					off,
					ctx,
				);
				await waitOnExecutionContext(ctx);
				const text = await res.text();
				const context = `${label(op)} with ADMIN_TOKEN unset and ${String(header)}`;
				expect(res.status, `${context}: ${text}`).toBe(404);
				expect(expectHouseShape(res, text, context)).toBe("route_not_found");
			}
		}
	});
});
