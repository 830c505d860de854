import { exports } from "cloudflare:workers";
import { expect } from "vitest";

export const BASE = "http://gateway.test";

/** A browser of one: keeps the dashboard cookie, sends forms from the gateway's origin. */
export class Browser {
	cookie: string | null = null;

	async get(path: string): Promise<Response> {
		return this.send(new Request(BASE + path, { headers: this.headers(), redirect: "manual" }));
	}

	async post(
		path: string,
		fields: Record<string, string>,
		options: { origin?: string | null } = {},
	): Promise<Response> {
		const headers = this.headers();
		headers["Content-Type"] = "application/x-www-form-urlencoded";
		const origin = options.origin === undefined ? BASE : options.origin;
		if (origin !== null) headers.Origin = origin;
		return this.send(
			new Request(BASE + path, {
				method: "POST",
				headers,
				body: new URLSearchParams(fields).toString(),
				redirect: "manual",
			}),
		);
	}

	/** A JSON POST from the dashboard's script (same origin; a CSRF header when signed in). */
	async postJson(path: string, body: unknown, csrf?: string): Promise<Response> {
		const headers = this.headers();
		headers["Content-Type"] = "application/json";
		headers.Origin = BASE;
		if (csrf) headers["X-CSRF-Token"] = csrf;
		return this.send(
			new Request(BASE + path, { method: "POST", headers, body: JSON.stringify(body) }),
		);
	}

	async signIn(key: string): Promise<Response> {
		return this.post("/dashboard/sign-in", { secret_key: key, next: "/dashboard/payments" });
	}

	/** The CSRF token of the page at `path`. */
	async csrf(path = "/dashboard/keys"): Promise<string> {
		return field(await (await this.get(path)).text(), "csrf");
	}

	/** Ids of the payments in the table of the list page at `query`. */
	async paymentIds(query: string): Promise<string[]> {
		const res = await this.get(`/dashboard/payments?${query}`);
		expect(res.status, query).toBe(200);
		return [...(await res.text()).matchAll(/<tr data-payment="(pay_\w+)"/g)].map(
			(m) => m[1] as string,
		);
	}

	private headers(): Record<string, string> {
		return this.cookie ? { Cookie: this.cookie } : {};
	}

	private async send(request: Request): Promise<Response> {
		const res = await exports.default.fetch(request);
		const set = res.headers.get("Set-Cookie");
		if (set) {
			const pair = set.split(";")[0] as string;
			this.cookie = /=$/.test(pair) || /Max-Age=0/i.test(set) ? null : pair;
		}
		return res;
	}
}

/** The value of the form field `name` in a page. */
export function field(html: string, name: string): string {
	const match = new RegExp(`name="${name}" value="([^"]+)"`).exec(html);
	if (!match?.[1]) throw new Error(`no ${name} field in the page`);
	return match[1];
}

/** A browser signed in with `key` (a 303 to the dashboard). */
export async function signedIn(key: string): Promise<Browser> {
	const browser = new Browser();
	const res = await browser.signIn(key);
	expect(res.status, await res.clone().text()).toBe(303);
	return browser;
}

/** The session cookie (`name=value`) of a sign-in with `key`. */
export async function sessionCookie(key: string): Promise<string> {
	return (await signedIn(key)).cookie as string;
}
