// A thin client for the gateway's HTTP API, shared by `npm run dev` and `merchant:create`.

export interface Merchant {
	id: string;
	object: "merchant";
	name: string;
	created: number;
	[field: string]: unknown;
}

export interface ApiKey {
	id: string;
	object: "api_key";
	type: "secret" | "publishable";
	livemode: boolean;
	secret: string;
	[field: string]: unknown;
}

export interface CreateMerchantResponse {
	merchant: Merchant;
	keys: ApiKey[];
}

export interface Payment {
	id?: string;
	checkout_url: string;
	[field: string]: unknown;
}

/** The gateway answered with its error envelope (or at least a non-2xx status). */
export class GatewayApiError extends Error {
	constructor(
		readonly status: number,
		message: string,
		readonly type?: string,
		readonly code?: string,
		readonly param?: string,
		readonly requestId?: string,
	) {
		super(message);
		this.name = "GatewayApiError";
	}
}

/** No HTTP answer at all: refused, reset, DNS, timeout. */
export class GatewayUnreachableError extends Error {
	constructor(
		readonly url: string,
		readonly reason: string,
	) {
		super(`could not reach ${url} (${reason})`);
		this.name = "GatewayUnreachableError";
	}
}

const REQUEST_TIMEOUT_MS = 15_000;

function str(value: unknown): string | undefined {
	return typeof value === "string" ? value : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

function toApiError(status: number, text: string): GatewayApiError {
	let body: unknown;
	try {
		body = JSON.parse(text);
	} catch {
		// Not the gateway's envelope (a proxy page, a crash); show a bounded slice of it.
		const snippet = text.trim().slice(0, 200);
		return new GatewayApiError(status, `HTTP ${status}${snippet ? `: ${snippet}` : ""}`);
	}
	const error = isRecord(body) && isRecord(body.error) ? body.error : undefined;
	if (!error) return new GatewayApiError(status, `HTTP ${status}: ${text.slice(0, 200)}`);
	return new GatewayApiError(
		status,
		str(error.message) ?? `HTTP ${status}`,
		str(error.type),
		str(error.code),
		str(error.param),
		str(error.request_id),
	);
}

export interface RequestOptions {
	method?: "GET" | "POST";
	token?: string;
	body?: unknown;
	headers?: Record<string, string>;
	signal?: AbortSignal;
}

/** Sends a JSON request; resolves with status and parsed body for any HTTP answer. */
export async function gatewayFetch(
	baseUrl: string,
	path: string,
	options: RequestOptions = {},
): Promise<{ status: number; text: string }> {
	const url = new URL(path, baseUrl).toString();
	const headers: Record<string, string> = { accept: "application/json", ...options.headers };
	if (options.token) headers.authorization = `Bearer ${options.token}`;
	if (options.body !== undefined) headers["content-type"] = "application/json";
	const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
	let res: Response;
	try {
		res = await fetch(url, {
			method: options.method ?? "GET",
			headers,
			body: options.body === undefined ? undefined : JSON.stringify(options.body),
			signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
		});
	} catch (error) {
		options.signal?.throwIfAborted();
		const cause = (error as { cause?: { code?: string } }).cause;
		const reason = timeout.aborted
			? "timed out"
			: (cause?.code ?? (error as Error).message ?? String(error));
		throw new GatewayUnreachableError(url, reason);
	}
	return { status: res.status, text: await res.text() };
}

/** Like gatewayFetch, but non-2xx becomes GatewayApiError and the body must be JSON. */
export async function gatewayJson(
	baseUrl: string,
	path: string,
	options: RequestOptions = {},
): Promise<unknown> {
	const { status, text } = await gatewayFetch(baseUrl, path, options);
	if (status < 200 || status > 299) throw toApiError(status, text);
	try {
		return JSON.parse(text);
	} catch {
		throw new GatewayApiError(status, `expected JSON from ${path}, got: ${text.slice(0, 200)}`);
	}
}

/** Checks the fields the scripts rely on; everything else passes through untouched. */
export function parseCreateMerchantResponse(body: unknown): CreateMerchantResponse {
	const fail = (why: string): never => {
		throw new Error(`unexpected create-merchant response: ${why}`);
	};
	if (!isRecord(body)) return fail("not an object");
	const { merchant, keys } = body;
	if (!isRecord(merchant) || typeof merchant.id !== "string" || typeof merchant.name !== "string") {
		return fail("merchant.id and merchant.name are required");
	}
	if (!Array.isArray(keys)) return fail("keys must be an array");
	for (const key of keys) {
		if (
			!isRecord(key) ||
			typeof key.secret !== "string" ||
			(key.type !== "secret" && key.type !== "publishable") ||
			typeof key.livemode !== "boolean"
		) {
			return fail("each key needs type, livemode and secret");
		}
	}
	return body as unknown as CreateMerchantResponse;
}

export function findKey(
	keys: readonly ApiKey[],
	type: ApiKey["type"],
	livemode: boolean,
): ApiKey | undefined {
	return keys.find((key) => key.type === type && key.livemode === livemode);
}

export async function createMerchant(
	baseUrl: string,
	adminToken: string,
	input: { name: string; email?: string },
	signal?: AbortSignal,
): Promise<CreateMerchantResponse> {
	const body = await gatewayJson(baseUrl, "/admin/v1/merchants", {
		method: "POST",
		token: adminToken,
		body: input.email === undefined ? { name: input.name } : input,
		...(signal ? { signal } : {}),
	});
	return parseCreateMerchantResponse(body);
}

/** An invitation to a merchant's dashboard team through the admin API: its one-time link. */
export async function createInvitation(
	baseUrl: string,
	adminToken: string,
	merchantId: string,
	input: { email: string; role?: string },
	signal?: AbortSignal,
): Promise<{ url: string; emailed: boolean; expires_at: number }> {
	const body = (await gatewayJson(baseUrl, `/admin/v1/merchants/${merchantId}/invitations`, {
		method: "POST",
		token: adminToken,
		body: { email: input.email, role: input.role ?? "owner" },
		...(signal ? { signal } : {}),
	})) as { url?: unknown; emailed?: unknown; invitation?: { expires_at?: unknown } };
	if (typeof body.url !== "string") throw new Error("the admin API returned no invitation url");
	return {
		url: body.url,
		emailed: body.emailed === true,
		expires_at: Number(body.invitation?.expires_at ?? 0),
	};
}

export async function createPayment(
	baseUrl: string,
	secretKey: string,
	input: {
		amount: number;
		currency: string;
		description?: string;
		payment_method_types?: string[];
		solana?: { token: string };
	},
	idempotencyKey: string,
	signal?: AbortSignal,
): Promise<Payment> {
	const body = await gatewayJson(baseUrl, "/v1/payments", {
		method: "POST",
		token: secretKey,
		body: input,
		headers: { "idempotency-key": idempotencyKey },
		...(signal ? { signal } : {}),
	});
	if (!isRecord(body) || typeof body.checkout_url !== "string") {
		throw new Error("unexpected create-payment response: checkout_url is missing");
	}
	return body as Payment;
}
