import {
	createExecutionContext,
	createScheduledController,
	waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import {
	call,
	createMerchant,
	createPayment,
	type ErrorJson,
	type EventJson,
	expectApiError,
	expectRequestId,
	json,
	list,
	type PaymentJson,
} from "./helpers/api";

const PAYMENT = { amount: 2500, currency: "usd" };

function post(key: string, path: string, idempotencyKey: string | undefined, body?: unknown) {
	return call("POST", path, {
		key,
		...(body !== undefined ? { body } : {}),
		...(idempotencyKey !== undefined ? { headers: { "Idempotency-Key": idempotencyKey } } : {}),
	});
}

async function paymentIds(key: string): Promise<string[]> {
	return (await list<PaymentJson>(key, "/v1/payments?limit=100")).data.map((p) => p.id);
}

async function createdEvents(key: string): Promise<string[]> {
	return (await list<EventJson>(key, "/v1/events?type=payment.created&limit=100")).data.map((e) =>
		String(e.data.object.id),
	);
}

function storedKeys(merchantId: string): Promise<number> {
	return env.DB.prepare("SELECT COUNT(*) AS n FROM idempotency_keys WHERE merchant_id = ?")
		.bind(merchantId)
		.first<number>("n") as Promise<number>;
}

/** Runs the Worker's cron handler as the runtime would, and waits for it and any `waitUntil` work. */
async function runCron(scheduledTime: number): Promise<void> {
	const controller = createScheduledController({ scheduledTime, cron: "*/15 * * * *" });
	const ctx = createExecutionContext();
	await worker.scheduled(controller, env, ctx);
	await waitOnExecutionContext(ctx);
}

describe("Idempotency-Key", () => {
	it("replays the first response for the same key and body, creating one payment", async () => {
		const m = await createMerchant();
		const key = crypto.randomUUID();
		const first = await post(m.sk, "/v1/payments", key, PAYMENT);
		const firstText = await first.text();
		expect(first.status).toBe(200);
		expect(first.headers.get("Idempotent-Replayed")).toBeNull();

		const replay = await post(m.sk, "/v1/payments", key, PAYMENT);
		expect(replay.status).toBe(200);
		expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
		expect(replay.headers.get("Content-Type")).toMatch(/^application\/json/);
		expect(await replay.text()).toBe(firstText);
		// The replay is a new request with its own id.
		expect(expectRequestId(replay)).not.toBe(expectRequestId(first));

		const payment = JSON.parse(firstText) as PaymentJson;
		expect(await paymentIds(m.sk)).toEqual([payment.id]);
		expect(await createdEvents(m.sk)).toEqual([payment.id]);
	});

	it("keeps replaying: a third request with the key is also a replay", async () => {
		const m = await createMerchant();
		const key = crypto.randomUUID();
		const first = await json<PaymentJson>(await post(m.sk, "/v1/payments", key, PAYMENT));
		for (let i = 0; i < 2; i++) {
			const again = await post(m.sk, "/v1/payments", key, PAYMENT);
			expect(again.headers.get("Idempotent-Replayed")).toBe("true");
			expect((await json<PaymentJson>(again)).id).toBe(first.id);
		}
		expect(await paymentIds(m.sk)).toEqual([first.id]);
	});

	it("refuses the same key with a different body: 422 idempotency_key_mismatch", async () => {
		const m = await createMerchant();
		const key = crypto.randomUUID();
		const first = await json<PaymentJson>(await post(m.sk, "/v1/payments", key, PAYMENT));
		const error = await expectApiError(
			await post(m.sk, "/v1/payments", key, { ...PAYMENT, amount: 2501 }),
			"idempotency_key_mismatch",
			"Idempotency-Key",
		);
		expect(error.message).toMatch(/same parameters/);
		expect(await paymentIds(m.sk)).toEqual([first.id]);
	});

	it("refuses the same key on a different path: 422 idempotency_key_mismatch", async () => {
		const m = await createMerchant();
		const key = crypto.randomUUID();
		const first = await json<PaymentJson>(await post(m.sk, "/v1/payments", key, PAYMENT));
		await expectApiError(
			await post(m.sk, `/v1/payments/${first.id}/cancel`, key),
			"idempotency_key_mismatch",
			"Idempotency-Key",
		);
		const after = await json<PaymentJson>(
			await call("GET", `/v1/payments/${first.id}`, { key: m.sk }),
		);
		expect(after.status).toBe("requires_payment");
	});

	it("lets two concurrent requests with one key create only one payment", async () => {
		const m = await createMerchant();
		const key = crypto.randomUUID();
		const responses = await Promise.all([
			post(m.sk, "/v1/payments", key, PAYMENT),
			post(m.sk, "/v1/payments", key, PAYMENT),
		]);
		const bodies = await Promise.all(responses.map((r) => r.text()));
		const winners = responses.filter(
			(r) => r.status === 200 && r.headers.get("Idempotent-Replayed") === null,
		);
		expect(winners).toHaveLength(1);
		const winner = JSON.parse(bodies[responses.indexOf(winners[0] as Response)] as string);
		const otherIndex = responses.indexOf(winners[0] as Response) === 0 ? 1 : 0;
		const other = responses[otherIndex] as Response;
		const otherBody = JSON.parse(bodies[otherIndex] as string) as PaymentJson | ErrorJson;
		if (other.status === 409) {
			expect(otherBody).toStrictEqual({
				error: {
					type: "idempotency_error",
					code: "idempotency_key_in_use",
					message: expect.any(String),
					param: "Idempotency-Key",
					request_id: expectRequestId(other),
				},
			});
		} else {
			expect(other.status).toBe(200);
			expect(other.headers.get("Idempotent-Replayed")).toBe("true");
			expect((otherBody as PaymentJson).id).toBe(winner.id);
		}
		expect(await paymentIds(m.sk)).toEqual([winner.id]);
		expect(await createdEvents(m.sk)).toEqual([winner.id]);
		// Once the winner is done, the key replays it.
		const later = await post(m.sk, "/v1/payments", key, PAYMENT);
		expect(later.headers.get("Idempotent-Replayed")).toBe("true");
		expect((await json<PaymentJson>(later)).id).toBe(winner.id);
	});

	it("stores nothing for a request that fails validation: the key then works with a valid body", async () => {
		const m = await createMerchant();
		const key = crypto.randomUUID();
		await expectApiError(
			await post(m.sk, "/v1/payments", key, { currency: "usd" }),
			"parameter_missing",
			"amount",
		);
		expect(await storedKeys(m.merchant.id)).toBe(0);
		const ok = await post(m.sk, "/v1/payments", key, PAYMENT);
		expect(ok.status).toBe(200);
		expect(ok.headers.get("Idempotent-Replayed")).toBeNull();
		const payment = await json<PaymentJson>(ok);
		expect(await paymentIds(m.sk)).toEqual([payment.id]);
	});

	it("stores nothing for a body that is not JSON", async () => {
		const m = await createMerchant();
		const key = crypto.randomUUID();
		await expectApiError(
			await call("POST", "/v1/payments", {
				key: m.sk,
				rawBody: "{",
				headers: { "Content-Type": "application/json", "Idempotency-Key": key },
			}),
			"body_invalid",
		);
		expect(await storedKeys(m.merchant.id)).toBe(0);
		expect((await post(m.sk, "/v1/payments", key, PAYMENT)).status).toBe(200);
	});

	it("scopes keys per merchant: the same key used by two merchants creates two payments", async () => {
		const a = await createMerchant("A");
		const b = await createMerchant("B");
		const key = crypto.randomUUID();
		const pa = await post(a.sk, "/v1/payments", key, PAYMENT);
		const pb = await post(b.sk, "/v1/payments", key, PAYMENT);
		expect(pa.status).toBe(200);
		expect(pb.status).toBe(200);
		expect(pb.headers.get("Idempotent-Replayed")).toBeNull();
		const [ja, jb] = [await json<PaymentJson>(pa), await json<PaymentJson>(pb)];
		expect(ja.id).not.toBe(jb.id);
		expect(await paymentIds(a.sk)).toEqual([ja.id]);
		expect(await paymentIds(b.sk)).toEqual([jb.id]);
	});

	it("scopes keys per mode: the same key in test and live mode creates two payments", async () => {
		const m = await createMerchant();
		const key = crypto.randomUUID();
		const test = await post(m.sk, "/v1/payments", key, PAYMENT);
		const live = await post(m.skLive, "/v1/payments", key, PAYMENT);
		expect(live.headers.get("Idempotent-Replayed")).toBeNull();
		const [jt, jl] = [await json<PaymentJson>(test), await json<PaymentJson>(live)];
		expect(jt.livemode).toBe(false);
		expect(jl.livemode).toBe(true);
		expect(await paymentIds(m.sk)).toEqual([jt.id]);
		expect(await paymentIds(m.skLive)).toEqual([jl.id]);
	});

	it("accepts a 255-character key and rejects a 256-character one with param Idempotency-Key", async () => {
		const m = await createMerchant();
		expect((await post(m.sk, "/v1/payments", "k".repeat(255), PAYMENT)).status).toBe(200);
		const error = await expectApiError(
			await post(m.sk, "/v1/payments", "k".repeat(256), PAYMENT),
			"parameter_invalid",
			"Idempotency-Key",
		);
		expect(error.message).toBe(
			"Idempotency-Key must be 1 to 255 printable ASCII characters without spaces.",
		);
		expect(await paymentIds(m.sk)).toHaveLength(1);
	});

	it("rejects an empty key and a key with a space", async () => {
		const m = await createMerchant();
		for (const key of ["", "two words"]) {
			await expectApiError(
				await post(m.sk, "/v1/payments", key, PAYMENT),
				"parameter_invalid",
				"Idempotency-Key",
			);
		}
		expect(await paymentIds(m.sk)).toEqual([]);
	});

	it("replays an error that is not a 400 or 5xx: a 409 on cancel of a canceled payment", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk);
		expect((await post(m.sk, `/v1/payments/${p.id}/cancel`, undefined)).status).toBe(200);
		const key = crypto.randomUUID();
		const first = await post(m.sk, `/v1/payments/${p.id}/cancel`, key);
		const firstError = await expectApiError(first, "payment_unexpected_state");

		const replay = await post(m.sk, `/v1/payments/${p.id}/cancel`, key);
		expect(replay.status).toBe(409);
		expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
		const replayed = await json<ErrorJson>(replay);
		// The stored body, byte for byte: it still names the first request's id.
		expect(replayed.error).toStrictEqual(firstError);
		expect(replayed.error.request_id).not.toBe(expectRequestId(replay));
	});

	it("replays a successful cancel instead of answering 409 the second time", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk);
		const key = crypto.randomUUID();
		const first = await post(m.sk, `/v1/payments/${p.id}/cancel`, key);
		expect(first.status).toBe(200);
		const firstText = await first.text();
		const again = await post(m.sk, `/v1/payments/${p.id}/cancel`, key);
		expect(again.status).toBe(200);
		expect(again.headers.get("Idempotent-Replayed")).toBe("true");
		expect(await again.text()).toBe(firstText);
		const events = await list<EventJson>(m.sk, `/v1/events?object_id=${p.id}`);
		expect(events.data.map((e) => e.type).sort()).toEqual(["payment.canceled", "payment.created"]);
	});

	it("treats a POST without a key normally: every request creates a payment", async () => {
		const m = await createMerchant();
		const one = await post(m.sk, "/v1/payments", undefined, PAYMENT);
		const two = await post(m.sk, "/v1/payments", undefined, PAYMENT);
		expect(one.headers.get("Idempotent-Replayed")).toBeNull();
		expect(two.headers.get("Idempotent-Replayed")).toBeNull();
		const ids = [(await json<PaymentJson>(one)).id, (await json<PaymentJson>(two)).id];
		expect(new Set(ids).size).toBe(2);
		expect((await paymentIds(m.sk)).sort()).toEqual(ids.sort());
		expect(await storedKeys(m.merchant.id)).toBe(0);
	});

	it("ignores Idempotency-Key on GET", async () => {
		const m = await createMerchant();
		const key = crypto.randomUUID();
		const res = await call("GET", "/v1/payments", {
			key: m.sk,
			headers: { "Idempotency-Key": key },
		});
		expect(res.status).toBe(200);
		expect(res.headers.get("Idempotent-Replayed")).toBeNull();
		expect((await post(m.sk, "/v1/payments", key, PAYMENT)).status).toBe(200);
	});
});

describe("idempotency key expiry (cron)", () => {
	it("keeps keys younger than 24 h and purges them after, freeing the key", async () => {
		const m = await createMerchant();
		const key = crypto.randomUUID();
		const first = await json<PaymentJson>(await post(m.sk, "/v1/payments", key, PAYMENT));
		await expectApiError(
			await post(m.sk, "/v1/payments", key, { ...PAYMENT, amount: 3000 }),
			"idempotency_key_mismatch",
			"Idempotency-Key",
		);

		// An hour later the key is still held.
		await runCron(Date.now() + 60 * 60 * 1000);
		expect(await storedKeys(m.merchant.id)).toBe(1);
		const replay = await post(m.sk, "/v1/payments", key, PAYMENT);
		expect(replay.headers.get("Idempotent-Replayed")).toBe("true");

		// 25 hours later it is gone, and the key can carry a different request.
		await runCron(Date.now() + 25 * 60 * 60 * 1000);
		expect(await storedKeys(m.merchant.id)).toBe(0);
		const fresh = await post(m.sk, "/v1/payments", key, { ...PAYMENT, amount: 3000 });
		expect(fresh.status).toBe(200);
		expect(fresh.headers.get("Idempotent-Replayed")).toBeNull();
		const second = await json<PaymentJson>(fresh);
		expect(second.id).not.toBe(first.id);
		expect(second.amount).toBe(3000);
		expect((await paymentIds(m.sk)).sort()).toEqual([first.id, second.id].sort());
	});
});

describe("admin idempotency", () => {
	it("replays POST /admin/v1/merchants for the same key: one merchant, secrets shown only once", async () => {
		const key = crypto.randomUUID();
		const send = () =>
			call("POST", "/admin/v1/merchants", {
				key: "test-admin-token",
				body: { name: "Once" },
				headers: { "Idempotency-Key": key },
			});
		const first = await send();
		expect(first.status).toBe(201);
		const firstText = await first.text();
		const again = await send();
		expect(again.status).toBe(201);
		expect(again.headers.get("Idempotent-Replayed")).toBe("true");
		const original = JSON.parse(firstText) as {
			merchant: { id: string };
			keys: { secret?: string }[];
		};
		const replay = JSON.parse(await again.text()) as typeof original;
		expect(original.keys.every((k) => typeof k.secret === "string")).toBe(true);
		expect(replay).toEqual({
			...original,
			keys: original.keys.map(({ secret: _secret, ...rest }) => rest),
		});
		const { merchant } = original;
		const rows = await env.DB.prepare("SELECT id FROM merchants WHERE name = 'Once'").all();
		expect(rows.results.map((r) => r.id)).toEqual([merchant.id]);
	});
});
