import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeServer, listen, Router } from "../../sandbox/http.js";
import { type Sandbox, startSandbox } from "../../sandbox/server.js";
import {
	createStripeRouter,
	createStripeServer,
	sendStripeJson,
	unrecognizedUrlMessage,
} from "../../sandbox/stripe/server.js";

const SUFFIX = " Please see https://stripe.com/docs or we can help at https://support.stripe.com/.";

describe("Stripe emulator skeleton", () => {
	let sandbox: Sandbox;

	beforeAll(async () => {
		sandbox = await startSandbox({ solanaPort: 0, stripePort: 0, controlPort: 0 });
	});
	afterAll(() => sandbox.close());

	it("answers unknown URLs with Stripe's 404 error shape", async () => {
		const res = await fetch(`${sandbox.urls.stripe}/v1/foo?expand[]=x`);
		expect(res.status).toBe(404);
		expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
		expect(res.headers.get("request-id")).toMatch(/^req_[0-9a-f]{14}$/);
		expect(await res.json()).toEqual({
			error: {
				type: "invalid_request_error",
				message: `Unrecognized request URL (GET: /v1/foo).${SUFFIX}`,
				code: "resource_missing",
			},
		});
	});

	it("names the method in the 404 and treats a wrong method as unrecognized", async () => {
		const res = await fetch(`${sandbox.urls.stripe}/health`, {
			method: "POST",
			headers: { "content-type": "application/x-www-form-urlencoded" },
			body: "amount=100",
		});
		expect(res.status).toBe(404);
		const body = (await res.json()) as { error: { message: string } };
		expect(body.error.message).toBe(`Unrecognized request URL (POST: /health).${SUFFIX}`);
	});

	it("adds Stripe's trailing-slash hint", () => {
		expect(unrecognizedUrlMessage("GET", "/v1/refunds/")).toBe(
			"Unrecognized request URL (GET: /v1/refunds/). If you are trying to list objects, remove the trailing slash. If you are trying to retrieve an object, make sure you passed a valid (non-empty) identifier in your code." +
				SUFFIX,
		);
	});
});

describe("router", () => {
	it("matches methods and named segments exactly", () => {
		const router = new Router();
		const get = () => {};
		const capture = () => {};
		router.get("/v1/payment_intents/:id", get).post("/v1/payment_intents/:id/capture", capture);
		expect(router.match("GET", "/v1/payment_intents/pi_123")).toEqual({
			handler: get,
			params: { id: "pi_123" },
		});
		expect(router.match("get", "/v1/payment_intents/pi%20x")?.params).toEqual({ id: "pi x" });
		expect(router.match("POST", "/v1/payment_intents/pi_1/capture")?.handler).toBe(capture);
		expect(router.match("POST", "/v1/payment_intents/pi_123")).toBeUndefined();
		expect(router.match("GET", "/v1/payment_intents/")).toBeUndefined();
		expect(router.match("GET", "/v1/payment_intents/pi_1/")).toBeUndefined();
		expect(router.match("GET", "/v1/payment_intents/%E0%A4%A")).toBeUndefined();
	});

	it("lets later endpoints register on the Stripe router, and turns handler crashes into api_error", async () => {
		const logged: string[] = [];
		const router = createStripeRouter()
			.get("/v1/payment_intents/:id", ({ res, params }) =>
				sendStripeJson(res, 200, { id: params.id, object: "payment_intent" }),
			)
			.post("/v1/refunds", () => {
				throw new Error("not yet");
			});
		const server = createStripeServer({ router, log: (line) => logged.push(line) });
		const base = `http://127.0.0.1:${await listen(server, 0, "127.0.0.1")}`;
		try {
			const ok = await fetch(`${base}/v1/payment_intents/pi_9`);
			expect(await ok.json()).toEqual({ id: "pi_9", object: "payment_intent" });
			const crash = await fetch(`${base}/v1/refunds`, { method: "POST" });
			expect(crash.status).toBe(500);
			expect(await crash.json()).toEqual({
				error: { type: "api_error", message: "An unknown error occurred in the Stripe emulator." },
			});
			expect(logged).toEqual(["stripe: POST /v1/refunds failed: not yet"]);
		} finally {
			await closeServer(server);
		}
	});
});
