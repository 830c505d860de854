import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createMerchant, json } from "./helpers/api";

// The dashboard's reports page: the generate form goes through the same service as
// POST /v1/reports, the list shows the mode's reports, downloads are the merchant's own only.

const BASE = "http://gateway.test";

class Browser {
	cookie: string | null = null;

	async get(path: string): Promise<Response> {
		const headers: Record<string, string> = this.cookie ? { Cookie: this.cookie } : {};
		return this.keep(
			await exports.default.fetch(new Request(BASE + path, { headers, redirect: "manual" })),
		);
	}

	async post(path: string, fields: Record<string, string>): Promise<Response> {
		const headers: Record<string, string> = {
			"Content-Type": "application/x-www-form-urlencoded",
			Origin: BASE,
		};
		if (this.cookie) headers.Cookie = this.cookie;
		const body = new URLSearchParams(fields).toString();
		return this.keep(
			await exports.default.fetch(
				new Request(BASE + path, { method: "POST", headers, body, redirect: "manual" }),
			),
		);
	}

	async csrf(): Promise<string> {
		const html = await (await this.get("/dashboard/reports")).text();
		return /name="csrf" value="([^"]+)"/.exec(html)?.[1] as string;
	}

	private keep(res: Response): Response {
		const set = res.headers.get("Set-Cookie");
		if (set) this.cookie = set.split(";")[0] as string;
		return res;
	}
}

async function signIn(key: string): Promise<Browser> {
	const browser = new Browser();
	expect((await browser.post("/dashboard/sign-in", { secret_key: key })).status).toBe(303);
	return browser;
}

const today = () => new Date().toISOString().slice(0, 10);

describe("reports page", () => {
	it("generates a report from the form, lists it ready, and downloads its files", async () => {
		const m = await createMerchant();
		await call("POST", "/v1/payments", { key: m.sk, body: { amount: 1234, currency: "usd" } });
		const browser = await signIn(m.sk);
		expect(await (await browser.get("/dashboard/reports")).text()).toContain("No reports yet.");
		const res = await browser.post("/dashboard/reports", {
			csrf: await browser.csrf(),
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
		const browser = await signIn(m.sk);
		for (const id of [theirs.id, live.id]) {
			expect((await browser.get(`/dashboard/reports/${id}/download?format=csv`)).status).toBe(404);
		}
		const list = await (await browser.get("/dashboard/reports")).text();
		expect(list).not.toContain(theirs.id);
		expect(list).not.toContain(live.id);
	});

	it("shows why a period is refused", async () => {
		const m = await createMerchant();
		const browser = await signIn(m.sk);
		const res = await browser.post("/dashboard/reports", {
			csrf: await browser.csrf(),
			type: "settlement",
			from: today(),
			to: "2999-01-01",
		});
		expect(res.status).toBe(400);
		expect(await res.text()).toContain("must not be in the future");
	});
});
