import { describe, expect, it } from "vitest";
import { call, createMerchant, json } from "./helpers/api";
import { type Browser, field, signedIn } from "./helpers/dashboard";

// The dashboard's reports page: the generate form goes through the same service as
// POST /v1/reports, the list shows the mode's reports, downloads are the merchant's own only.

const today = () => new Date().toISOString().slice(0, 10);

/** The generate form's hidden fields, as the page renders them (one form token per rendering). */
async function reportForm(browser: Browser): Promise<{ csrf: string; form_token: string }> {
	const html = await (await browser.get("/dashboard/reports")).text();
	return { csrf: field(html, "csrf"), form_token: field(html, "form_token") };
}

describe("reports page", () => {
	it("generates a report from the form, lists it ready, and downloads its files", async () => {
		const m = await createMerchant();
		await call("POST", "/v1/payments", { key: m.sk, body: { amount: 1234, currency: "usd" } });
		const browser = await signedIn(m.sk);
		expect(await (await browser.get("/dashboard/reports")).text()).toContain("No reports yet.");
		const res = await browser.post("/dashboard/reports", {
			...(await reportForm(browser)),
			type: "transactions",
			from: today(),
			to: today(),
		});
		expect(res.status).toBe(303);
		const id = /created=(rpt_\w+)/.exec(res.headers.get("Location") ?? "")?.[1] as string;
		const viaApi = await json<{ status: string; rows: number }>(
			await call("GET", `/v1/reports/${id}`, { key: m.sk }),
		);
		expect(viaApi.status).toBe("ready");
		const list = await (await browser.get(res.headers.get("Location") as string)).text();
		expect(list).toContain(`Report ${id} requested.`);
		expect(list).toContain(`data-report="${id}"`);
		expect(list).toContain(`/dashboard/reports/${id}/download?format=csv`);
		const csv = await browser.get(`/dashboard/reports/${id}/download?format=csv`);
		expect(csv.status).toBe(200);
		expect(csv.headers.get("Content-Type")).toMatch(/^text\/csv/);
		expect(csv.headers.get("Content-Disposition")).toMatch(/^attachment; filename="transactions-/);
		const fromApi = await call("GET", `/v1/reports/${id}/download?format=csv`, { key: m.sk });
		expect(await csv.text()).toBe(await fromApi.text());
		const jsonFile = await browser.get(`/dashboard/reports/${id}/download?format=json`);
		expect(jsonFile.headers.get("Content-Type")).toMatch(/^application\/json/);
	});

	it("another merchant's report, or the other mode's, is not found", async () => {
		const m = await createMerchant();
		const other = await createMerchant();
		const theirs = await json<{ id: string }>(
			await call("POST", "/v1/reports", {
				key: other.sk,
				body: { type: "transactions", from: today(), to: today() },
			}),
		);
		const live = await json<{ id: string }>(
			await call("POST", "/v1/reports", {
				key: m.skLive,
				body: { type: "transactions", from: today(), to: today() },
			}),
		);
		const browser = await signedIn(m.sk);
		for (const id of [theirs.id, live.id]) {
			expect((await browser.get(`/dashboard/reports/${id}/download?format=csv`)).status).toBe(404);
		}
		const list = await (await browser.get("/dashboard/reports")).text();
		expect(list).not.toContain(theirs.id);
		expect(list).not.toContain(live.id);
	});

	it("shows why a period is refused", async () => {
		const m = await createMerchant();
		const browser = await signedIn(m.sk);
		const form = await reportForm(browser);
		const res = await browser.post("/dashboard/reports", {
			...form,
			type: "settlement",
			from: today(),
			to: "2999-01-01",
		});
		expect(res.status).toBe(400);
		expect(await res.text()).toContain("must not be in the future");
		// The refusal freed the form's token: the corrected form goes through.
		const fixed = await browser.post("/dashboard/reports", {
			...form,
			type: "settlement",
			from: today(),
			to: today(),
		});
		expect(fixed.status).toBe(303);
		expect(fixed.headers.get("Location")).toMatch(/created=rpt_/);
	});

	it("makes one report when the same form is sent twice, and refuses its token for another period", async () => {
		const m = await createMerchant();
		const browser = await signedIn(m.sk);
		const form = await reportForm(browser);
		const body = { ...form, type: "settlement", from: today(), to: today() };
		const first = await browser.post("/dashboard/reports", body);
		const second = await browser.post("/dashboard/reports", body);
		expect(first.status).toBe(303);
		expect(second.status).toBe(303);
		expect(second.headers.get("Location")).toBe(first.headers.get("Location"));
		const listed = await json<{ data: { id: string }[] }>(
			await call("GET", "/v1/reports", { key: m.sk }),
		);
		expect(listed.data).toHaveLength(1);
		const other = await browser.post("/dashboard/reports", { ...body, type: "transactions" });
		expect(other.status).toBe(422);
		expect(
			(await json<{ data: unknown[] }>(await call("GET", "/v1/reports", { key: m.sk }))).data,
		).toHaveLength(1);
		// A form without its token is refused before anything is made.
		const { form_token: _token, ...noToken } = body;
		expect((await browser.post("/dashboard/reports", noToken)).status).toBe(400);
	});
});
