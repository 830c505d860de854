import { createServer, type IncomingHttpHeaders } from "node:http";
import { closeServer, listen, readBody, sendJson } from "../../sandbox/http.js";

// A stand-in for the gateway's admin and payments API, enough to exercise the scripts.

export interface Recorded {
	method: string;
	path: string;
	headers: IncomingHttpHeaders;
	body: unknown;
}

export const ADMIN_TOKEN = "test-admin-token";

export async function startFakeGateway() {
	const requests: Recorded[] = [];
	const validKeys = new Set<string>();
	let merchants = 0;
	const state = { failCreate: undefined as undefined | { status: number; body: unknown } };
	const server = createServer(async (req, res) => {
		const text = await readBody(req);
		const path = req.url ?? "/";
		const body = text ? JSON.parse(text) : undefined;
		requests.push({ method: req.method ?? "", path, headers: req.headers, body });
		const auth = req.headers.authorization ?? "";
		const unauthorized = () =>
			sendJson(res, 401, {
				error: {
					type: "authentication_error",
					code: "invalid_api_key",
					message: "Invalid API key.",
					request_id: "req_1",
				},
			});
		if (req.method === "GET" && path === "/health") return sendJson(res, 200, { status: "ok" });
		if (req.method === "POST" && path === "/admin/v1/merchants") {
			if (auth !== `Bearer ${ADMIN_TOKEN}`) return unauthorized();
			if (state.failCreate) return sendJson(res, state.failCreate.status, state.failCreate.body);
			merchants += 1;
			const sk = `sk_test_${merchants}abc`;
			validKeys.add(sk);
			return sendJson(res, 201, {
				merchant: {
					id: `mch_${merchants}`,
					object: "merchant",
					name: body.name,
					created: 1_700_000_000,
					...(body.email ? { email: body.email } : {}),
				},
				keys: [
					{ id: "key_1", object: "api_key", type: "secret", livemode: false, secret: sk },
					{
						id: "key_2",
						object: "api_key",
						type: "publishable",
						livemode: false,
						secret: `pk_test_${merchants}abc`,
					},
				],
			});
		}
		const key = auth.replace(/^Bearer /, "");
		if (path === "/v1/balances" && req.method === "GET") {
			return validKeys.has(key) ? sendJson(res, 200, { object: "balance" }) : unauthorized();
		}
		if (path === "/v1/payments" && req.method === "POST") {
			if (!validKeys.has(key)) return unauthorized();
			return sendJson(res, 201, {
				id: "pay_1",
				object: "payment",
				checkout_url: "http://127.0.0.1:8787/checkout/pay_1",
			});
		}
		sendJson(res, 404, {
			error: { type: "invalid_request_error", code: "not_found", message: "nope" },
		});
	});
	const port = await listen(server, 0, "127.0.0.1");
	return {
		url: `http://127.0.0.1:${port}`,
		requests,
		validKeys,
		state,
		close: () => closeServer(server),
	};
}
