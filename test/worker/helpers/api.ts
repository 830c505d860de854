import { exports } from "cloudflare:workers";

export const ADMIN_TOKEN = "test-admin-token";

export interface CreatedMerchant {
	merchant: { id: string; name: string };
	keys: { id: string; type: "secret" | "publishable"; livemode: boolean; secret: string }[];
}

/** Sends a request to the gateway Worker exactly as a client on the network would. */
export function call(
	method: string,
	path: string,
	options: {
		key?: string;
		body?: unknown;
		rawBody?: string;
		headers?: Record<string, string>;
	} = {},
): Promise<Response> {
	const headers: Record<string, string> = { ...options.headers };
	if (options.key) headers.Authorization = `Bearer ${options.key}`;
	let body: string | undefined;
	if (options.rawBody !== undefined) body = options.rawBody;
	else if (options.body !== undefined) {
		body = JSON.stringify(options.body);
		headers["Content-Type"] ??= "application/json";
	}
	return exports.default.fetch(
		new Request(`http://gateway.test${path}`, { method, headers, body }),
	);
}

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
	return (await res.json()) as T;
}

export async function createMerchant(
	name = "Acme",
): Promise<CreatedMerchant & { sk: string; pk: string; skLive: string }> {
	const res = await call("POST", "/admin/v1/merchants", { key: ADMIN_TOKEN, body: { name } });
	if (res.status !== 201)
		throw new Error(`merchant create failed: ${res.status} ${await res.text()}`);
	const created = await json<CreatedMerchant>(res);
	const find = (type: string, livemode: boolean) =>
		created.keys.find((k) => k.type === type && k.livemode === livemode)?.secret as string;
	return {
		...created,
		sk: find("secret", false),
		pk: find("publishable", false),
		skLive: find("secret", true),
	};
}

export interface PaymentJson {
	id: string;
	object: "payment";
	status: string;
	amount: number;
	currency: string;
	livemode: boolean;
	amount_received: number;
	expires_at: number;
	created: number;
	checkout_url: string;
	metadata: Record<string, string>;
	[key: string]: unknown;
}

export async function createPayment(
	key: string,
	body: Record<string, unknown> = {},
): Promise<PaymentJson> {
	const res = await call("POST", "/v1/payments", {
		key,
		body: { amount: 2500, currency: "usd", ...body },
	});
	if (res.status !== 200)
		throw new Error(`payment create failed: ${res.status} ${await res.text()}`);
	return json<PaymentJson>(res);
}
