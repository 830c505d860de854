import { beforeAll, describe, expect, it } from "vitest";
import {
	call,
	cancelPayment,
	createMerchant,
	createPayment,
	type EventJson,
	expectApiError,
	json,
	type ListJson,
	list,
	type PaymentJson,
} from "./helpers/api";

const TOTAL = 13;

let sk: string;
/** The merchant's payments, newest first (ids sort by creation time). */
let payments: PaymentJson[];
/** Ids of the payments canceled in setup. */
let canceled: Set<string>;

const desc = (ids: string[]) => [...ids].sort().reverse();
const ids = <T extends { id: string }>(items: T[]) => items.map((i) => i.id);
const query = (params: Record<string, string | number>) =>
	new URLSearchParams(
		Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]),
	).toString();

beforeAll(async () => {
	const m = await createMerchant("Pager");
	sk = m.sk;
	const created: PaymentJson[] = [];
	for (let i = 0; i < TOTAL; i++) created.push(await createPayment(sk, { amount: 100 + i }));
	// Another merchant's payments and this merchant's live payment must never show up.
	await createPayment((await createMerchant("Other")).sk);
	await createPayment(m.skLive);
	payments = [...created].sort((a, b) => (a.id < b.id ? 1 : -1));
	const toCancel = [created[1], created[5], created[11]] as PaymentJson[];
	for (const p of toCancel) await cancelPayment(sk, p.id);
	canceled = new Set(toCancel.map((p) => p.id));
});

function expectListShape<T>(body: ListJson<T>, url: string) {
	expect(Object.keys(body).sort()).toEqual(["data", "has_more", "object", "url"]);
	expect(body.object).toBe("list");
	expect(body.url).toBe(url);
	expect(Array.isArray(body.data)).toBe(true);
	expect(typeof body.has_more).toBe("boolean");
}

function expectNewestFirst(items: { id: string; created: number }[]) {
	for (let i = 1; i < items.length; i++) {
		expect((items[i - 1] as { id: string }).id > (items[i] as { id: string }).id).toBe(true);
		expect((items[i - 1] as { created: number }).created).toBeGreaterThanOrEqual(
			(items[i] as { created: number }).created,
		);
	}
}

describe("GET /v1/payments pagination", () => {
	it("returns the list envelope with the default page of 10, newest first, and has_more", async () => {
		const res = await call("GET", "/v1/payments", { key: sk });
		expect(res.status).toBe(200);
		const page = await json<ListJson<PaymentJson>>(res);
		expectListShape(page, "/v1/payments");
		expect(page.data).toHaveLength(10);
		expect(page.has_more).toBe(true);
		expectNewestFirst(page.data);
		expect(ids(page.data)).toEqual(ids(payments).slice(0, 10));
		expect(page.data.every((p) => p.object === "payment" && p.livemode === false)).toBe(true);
	});

	it("returns the remaining 3 after the last id of the first page, with has_more false", async () => {
		const first = await list<PaymentJson>(sk, "/v1/payments");
		const last = first.data.at(-1)?.id as string;
		const second = await list<PaymentJson>(sk, `/v1/payments?starting_after=${last}`);
		expect(second.data).toHaveLength(3);
		expect(second.has_more).toBe(false);
		expect(ids(second.data)).toEqual(ids(payments).slice(10));
		expectNewestFirst(second.data);
	});

	it("walks back with ending_before to the previous page, newest first", async () => {
		const second = await list<PaymentJson>(sk, `/v1/payments?starting_after=${payments[9]?.id}`);
		const back = await list<PaymentJson>(sk, `/v1/payments?ending_before=${second.data[0]?.id}`);
		expect(ids(back.data)).toEqual(ids(payments).slice(0, 10));
		expect(back.has_more).toBe(false);

		// A smaller page before the same cursor: the 5 payments right before it, still newest first,
		// and has_more because newer ones remain.
		const five = await list<PaymentJson>(
			sk,
			`/v1/payments?ending_before=${second.data[0]?.id}&limit=5`,
		);
		expect(ids(five.data)).toEqual(ids(payments).slice(5, 10));
		expect(five.has_more).toBe(true);

		const none = await list<PaymentJson>(sk, `/v1/payments?ending_before=${payments[0]?.id}`);
		expect(none.data).toEqual([]);
		expect(none.has_more).toBe(false);
	});

	it("visits every payment exactly once walking forward with limit 4", async () => {
		const seen: string[] = [];
		const hasMore: boolean[] = [];
		let cursor: string | undefined;
		for (;;) {
			const page = await list<PaymentJson>(
				sk,
				`/v1/payments?${query({ limit: 4, ...(cursor ? { starting_after: cursor } : {}) })}`,
			);
			seen.push(...ids(page.data));
			hasMore.push(page.has_more);
			if (!page.has_more) break;
			cursor = page.data.at(-1)?.id;
		}
		expect(seen).toEqual(ids(payments));
		expect(hasMore).toEqual([true, true, true, false]);
	});

	it("visits every payment exactly once walking backward from the oldest with limit 4", async () => {
		const oldest = payments.at(-1)?.id as string;
		const pages: string[][] = [];
		let cursor = oldest;
		for (;;) {
			const page = await list<PaymentJson>(sk, `/v1/payments?limit=4&ending_before=${cursor}`);
			expectNewestFirst(page.data);
			pages.push(ids(page.data));
			if (!page.has_more) break;
			cursor = page.data[0]?.id as string;
		}
		expect(pages.map((p) => p.length)).toEqual([4, 4, 4]);
		expect([...pages].reverse().flat()).toEqual(ids(payments).slice(0, 12));
	});

	it("honours limit 1 and limit 100", async () => {
		const one = await list<PaymentJson>(sk, "/v1/payments?limit=1");
		expect(ids(one.data)).toEqual([payments[0]?.id]);
		expect(one.has_more).toBe(true);
		const all = await list<PaymentJson>(sk, "/v1/payments?limit=100");
		expect(ids(all.data)).toEqual(ids(payments));
		expect(all.has_more).toBe(false);
		const exact = await list<PaymentJson>(sk, `/v1/payments?limit=${TOTAL}`);
		expect(exact.data).toHaveLength(TOTAL);
		expect(exact.has_more).toBe(false);
	});

	it.each(["0", "101"])("rejects limit=%s with param limit", async (limit) => {
		await expectApiError(
			await call("GET", `/v1/payments?limit=${limit}`, { key: sk }),
			"parameter_invalid",
			"limit",
		);
	});

	it("filters by status", async () => {
		const canceledPage = await list<PaymentJson>(sk, "/v1/payments?status=canceled");
		expect(ids(canceledPage.data)).toEqual(desc([...canceled]));
		expect(canceledPage.data.every((p) => p.status === "canceled")).toBe(true);
		expect(canceledPage.has_more).toBe(false);

		const open = await list<PaymentJson>(sk, "/v1/payments?status=requires_payment&limit=100");
		expect(ids(open.data)).toEqual(ids(payments).filter((id) => !canceled.has(id)));
		expect(open.data.every((p) => p.status === "requires_payment")).toBe(true);

		const paged = await list<PaymentJson>(sk, "/v1/payments?status=requires_payment&limit=5");
		expect(paged.data).toHaveLength(5);
		expect(paged.has_more).toBe(true);
		const rest = await list<PaymentJson>(
			sk,
			`/v1/payments?status=requires_payment&limit=5&starting_after=${paged.data[4]?.id}`,
		);
		expect([...ids(paged.data), ...ids(rest.data)]).toEqual(ids(open.data));
		expect(rest.has_more).toBe(false);

		const none = await list<PaymentJson>(sk, "/v1/payments?status=succeeded");
		expect(none.data).toEqual([]);
	});

	it("filters by created[gte], created[lte], created[gt] and created[lt]", async () => {
		const times = payments.map((p) => p.created);
		const min = Math.min(...times);
		const max = Math.max(...times);
		const expectRange = async (params: Record<string, number>, keep: (c: number) => boolean) => {
			const page = await list<PaymentJson>(sk, `/v1/payments?limit=100&${query(params)}`);
			expect(ids(page.data), JSON.stringify(params)).toEqual(
				ids(payments.filter((p) => keep(p.created))),
			);
		};
		await expectRange({ "created[gte]": min, "created[lte]": max }, () => true);
		await expectRange({ "created[gte]": max }, (c) => c >= max);
		await expectRange({ "created[lte]": min }, (c) => c <= min);
		await expectRange({ "created[gt]": min }, (c) => c > min);
		await expectRange({ "created[lt]": max }, (c) => c < max);
		await expectRange({ "created[gt]": max }, () => false);
		await expectRange({ "created[lt]": min }, () => false);
		await expectRange({ "created[gte]": max + 1 }, () => false);
		await expectRange({ "created[lte]": min - 1 }, () => false);
		for (const p of payments)
			await expectRange(
				{ "created[gte]": p.created, "created[lte]": p.created },
				(c) => c === p.created,
			);
	});

	// Fails today: lowestIdAt keeps only the low 50 bits of the millisecond time, so a bound past
	// the year 37648 wraps to 1970 and matches every payment (src/domain/ids.ts). See the report.
	it("never returns payments created before a created[gte] bound, however large", async () => {
		for (const bound of [1125899906843, 99999999999999]) {
			const res = await call("GET", `/v1/payments?created[gte]=${bound}`, { key: sk });
			if (res.status === 200) {
				const page = await json<ListJson<PaymentJson>>(res);
				expect(ids(page.data), `created[gte]=${bound}`).toEqual([]);
			} else {
				await expectApiError(res, "parameter_invalid", "created[gte]");
			}
		}
	});

	it("returns every payment for a created[lte] bound far in the future", async () => {
		for (const bound of [1125899906842, 99999999999999]) {
			const res = await call("GET", `/v1/payments?limit=100&created[lte]=${bound}`, { key: sk });
			if (res.status === 200) {
				const page = await json<ListJson<PaymentJson>>(res);
				expect(ids(page.data), `created[lte]=${bound}`).toEqual(ids(payments));
			} else {
				await expectApiError(res, "parameter_invalid", "created[lte]");
			}
		}
	});

	it("combines a created range with a cursor", async () => {
		const min = Math.min(...payments.map((p) => p.created));
		const page = await list<PaymentJson>(
			sk,
			`/v1/payments?limit=100&created[gte]=${min}&starting_after=${payments[2]?.id}`,
		);
		expect(ids(page.data)).toEqual(ids(payments).slice(3));
	});
});

describe("GET /v1/events pagination", () => {
	let events: EventJson[];

	beforeAll(async () => {
		events = (await list<EventJson>(sk, "/v1/events?limit=100")).data;
	});

	it("holds one payment.created per payment and one payment.canceled per cancel, newest first", () => {
		expect(events).toHaveLength(TOTAL + canceled.size);
		expectNewestFirst(events);
		const createdFor = events
			.filter((e) => e.type === "payment.created")
			.map((e) => e.data.object.id);
		expect(createdFor.sort()).toEqual(ids(payments).sort());
		const canceledFor = events
			.filter((e) => e.type === "payment.canceled")
			.map((e) => e.data.object.id);
		expect(canceledFor.sort()).toEqual([...canceled].sort());
		expect(events.every((e) => e.object === "event" && e.livemode === false)).toBe(true);
	});

	it("returns the list envelope with the default page of 10 and has_more", async () => {
		const page = await json<ListJson<EventJson>>(await call("GET", "/v1/events", { key: sk }));
		expectListShape(page, "/v1/events");
		expect(ids(page.data)).toEqual(ids(events).slice(0, 10));
		expect(page.has_more).toBe(true);
		const next = await list<EventJson>(sk, `/v1/events?starting_after=${page.data[9]?.id}`);
		expect(ids(next.data)).toEqual(ids(events).slice(10));
		expect(next.has_more).toBe(false);
		const back = await list<EventJson>(sk, `/v1/events?ending_before=${next.data[0]?.id}`);
		expect(ids(back.data)).toEqual(ids(page.data));
	});

	it("filters by type", async () => {
		const created = await list<EventJson>(sk, "/v1/events?type=payment.created&limit=100");
		expect(ids(created.data)).toEqual(ids(events.filter((e) => e.type === "payment.created")));
		const firstTen = await list<EventJson>(sk, "/v1/events?type=payment.created");
		expect(firstTen.data).toHaveLength(10);
		expect(firstTen.has_more).toBe(true);
		const cancels = await list<EventJson>(sk, "/v1/events?type=payment.canceled");
		expect(ids(cancels.data)).toEqual(ids(events.filter((e) => e.type === "payment.canceled")));
		expect(cancels.has_more).toBe(false);
		const none = await list<EventJson>(sk, "/v1/events?type=payment.succeeded");
		expect(none.data).toEqual([]);
	});

	it("filters by object_id", async () => {
		const target = [...canceled][0] as string;
		const forPayment = await list<EventJson>(sk, `/v1/events?object_id=${target}`);
		expect(ids(forPayment.data)).toEqual(ids(events.filter((e) => e.data.object.id === target)));
		expect(forPayment.data.map((e) => e.type).sort()).toEqual([
			"payment.canceled",
			"payment.created",
		]);
		const both = await list<EventJson>(sk, `/v1/events?object_id=${target}&type=payment.canceled`);
		expect(both.data).toHaveLength(1);
		expect(both.data[0]?.data.object).toMatchObject({ id: target, status: "canceled" });
	});

	it("filters by created range", async () => {
		const min = Math.min(...events.map((e) => e.created));
		const max = Math.max(...events.map((e) => e.created));
		const inRange = await list<EventJson>(
			sk,
			`/v1/events?limit=100&created[gte]=${min}&created[lte]=${max}`,
		);
		expect(ids(inRange.data)).toEqual(ids(events));
		const after = await list<EventJson>(sk, `/v1/events?limit=100&created[gt]=${max}`);
		expect(after.data).toEqual([]);
	});

	it("rejects a payment id as an events cursor with param starting_after", async () => {
		await expectApiError(
			await call("GET", `/v1/events?starting_after=${payments[0]?.id}`, { key: sk }),
			"parameter_invalid",
			"starting_after",
		);
	});
});
