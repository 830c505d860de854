import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, admin, call, createMerchant, json } from "../worker/helpers/api";
import { expectHouseShape } from "./helpers/house";
import { fetchDocument, fill, label, type Operation, operations } from "./helpers/openapi";

// OWASP API2:2023 Broken Authentication. Every route the document marks as keyed is called with
// every kind of bad credential; each is refused with 401 and the code that names the reason,
// before any parameter is read (the path ids below were never issued).

const doc = await fetchDocument();
const secured = operations(doc).filter((op) => op.security === "bearer");

/** Routes that also take the publishable key (a checkout re-quoting its payment). */
const PUBLISHABLE_ALLOWED = new Set(["POST /v1/payments/{id}/quote"]);

/** A JWT signed with some other secret: the shape a checkout token has. */
const FOREIGN_JWT =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJwYXlfMDAwMDAwMDAwMCIsImV4cCI6NDEwMjQ0NDgwMH0.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2ln";

interface Credential {
	name: string;
	header: string | undefined;
	code: "api_key_missing" | "api_key_invalid" | "api_key_expired" | "secret_key_required";
}

async function newKey(merchantId: string): Promise<{ id: string; secret: string }> {
	const res = await admin("POST", `/admin/v1/merchants/${merchantId}/keys`, {
		type: "secret",
		livemode: false,
	});
	expect(res.status).toBe(201);
	return json<{ id: string; secret: string }>(res);
}

const credentials: Credential[] = [];

beforeAll(async () => {
	const m = await createMerchant("Keys");
	const revoked = await newKey(m.merchant.id);
	expect(
		(await admin("POST", `/admin/v1/merchants/${m.merchant.id}/keys/${revoked.id}/revoke`)).status,
	).toBe(200);
	// Rolled with no grace: the old key is out the moment the new one exists.
	const rolled = await newKey(m.merchant.id);
	expect(
		(
			await admin("POST", `/admin/v1/merchants/${m.merchant.id}/keys/${rolled.id}/roll`, {
				expires_in: 0,
			})
		).status,
	).toBe(200);
	// Rolled with a grace period that has since run out.
	const expired = await newKey(m.merchant.id);
	expect(
		(
			await admin("POST", `/admin/v1/merchants/${m.merchant.id}/keys/${expired.id}/roll`, {
				expires_in: 3600,
			})
		).status,
	).toBe(200);
	await env.DB.prepare("UPDATE api_keys SET expires_at = ? WHERE id = ?")
		.bind(Math.floor(Date.now() / 1000) - 1, expired.id)
		.run();
	const whsec = `whsec_${btoa("0123456789abcdef0123456789abcdef")}`;
	credentials.push(
		{ name: "no Authorization header", header: undefined, code: "api_key_missing" },
		{ name: "Basic credentials", header: `Basic ${btoa(`${m.sk}:`)}`, code: "api_key_invalid" },
		{ name: "Bearer with a space in the key", header: `Bearer ${m.sk} x`, code: "api_key_invalid" },
		{ name: "Bearer and nothing", header: "Bearer ", code: "api_key_invalid" },
		{ name: "the key without a scheme", header: m.sk, code: "api_key_invalid" },
		{ name: "a foreign JWT", header: `Bearer ${FOREIGN_JWT}`, code: "api_key_invalid" },
		{ name: "a webhook secret", header: `Bearer ${whsec}`, code: "api_key_invalid" },
		{ name: "the admin token", header: `Bearer ${ADMIN_TOKEN}`, code: "api_key_invalid" },
		{
			name: "a key with its last character changed",
			header: `Bearer ${m.sk.slice(0, -1)}${m.sk.endsWith("A") ? "B" : "A"}`,
			code: "api_key_invalid",
		},
		{ name: "a revoked key", header: `Bearer ${revoked.secret}`, code: "api_key_invalid" },
		{
			name: "a key rolled with no grace",
			header: `Bearer ${rolled.secret}`,
			code: "api_key_expired",
		},
		{
			name: "a key past its grace period",
			header: `Bearer ${expired.secret}`,
			code: "api_key_expired",
		},
	);
	credentials.push({
		name: "the publishable key",
		header: `Bearer ${m.pk}`,
		code: "secret_key_required",
	});
});

describe("API2 authentication on every keyed route, generated from /v1/openapi.json", () => {
	it("finds keyed routes in the document", () => {
		expect(secured.length).toBeGreaterThan(30);
	});

	it.each(secured.map((op) => [label(op), op] as [string, Operation]))(
		"%s refuses every bad credential with 401",
		async (_label, op) => {
			const path = fill(
				op.path,
				Object.fromEntries(op.pathParams.map((p) => [p, "pay_00000000000000000000000000"])),
			);
			for (const credential of credentials) {
				if (credential.code === "secret_key_required" && PUBLISHABLE_ALLOWED.has(label(op)))
					continue;
				const headers: Record<string, string> = {};
				if (credential.header !== undefined) headers.Authorization = credential.header;
				const res = await call(op.method, path, {
					headers,
					...(op.body ? { body: { amount: 100 } } : {}),
				});
				const text = await res.text();
				const context = `${label(op)} with ${credential.name}`;
				expect(res.status, `${context}: ${text.slice(0, 300)}`).toBe(401);
				expect(expectHouseShape(res, text, context), context).toBe(credential.code);
				// Nothing of the presented secret is echoed past a masked prefix.
				const secret = credential.header?.split(/\s+/).pop() ?? "";
				if (secret.length > 16) expect(text, context).not.toContain(secret.slice(8, -4));
			}
		},
	);

	it("lets the publishable key through only where the document's routes allow it", async () => {
		const m = await createMerchant();
		const res = await call("POST", "/v1/payments/pay_00000000000000000000000000/quote", {
			key: m.pk,
			body: { token: "SOL" },
		});
		// Past authentication: the payment simply does not exist.
		expect(res.status).toBe(404);
	});
});
