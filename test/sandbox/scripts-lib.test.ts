import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { closeServer, listen } from "../../sandbox/http.js";
import { curlExample, renderBanner } from "../../scripts/lib/banner.js";
import { createDemoPayment, ensureDemoMerchant } from "../../scripts/lib/demo.js";
import {
	addMissingDevVars,
	ensureDevVars,
	parseDevVars,
	resolveAdminToken,
} from "../../scripts/lib/dev-vars.js";
import {
	createMerchant,
	GatewayApiError,
	GatewayUnreachableError,
} from "../../scripts/lib/gateway-api.js";
import { waitForUrl } from "../../scripts/lib/wait.js";
import { ADMIN_TOKEN, startFakeGateway } from "./fake-gateway.js";
import { freePort } from "./helpers.js";

let dir: string;
beforeEach(async () => {
	dir = await mkdtemp(join(tmpdir(), "sp-scripts-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe(".dev.vars", () => {
	it("parses the dotenv subset wrangler reads", () => {
		expect(
			parseDevVars(
				[
					"# comment",
					"",
					"ADMIN_TOKEN=abc123",
					"export A = spaced ",
					'B="quoted # not a comment"',
					"C='single'",
					"D=value # trailing comment",
					'E="line\\nbreak"',
					"not a line",
					"F=",
				].join("\r\n"),
			),
		).toEqual({
			ADMIN_TOKEN: "abc123",
			A: "spaced",
			B: "quoted # not a comment",
			C: "single",
			D: "value",
			E: "line\nbreak",
			F: "",
		});
	});

	it("copies the example once and never overwrites", async () => {
		await writeFile(join(dir, ".dev.vars.example"), "ADMIN_TOKEN=from-example\n");
		expect(await ensureDevVars(dir)).toBe(true);
		await writeFile(join(dir, ".dev.vars"), "ADMIN_TOKEN=mine\n");
		expect(await ensureDevVars(dir)).toBe(false);
		expect(await readFile(join(dir, ".dev.vars"), "utf8")).toBe("ADMIN_TOKEN=mine\n");
	});

	it("the shipped example holds the development secrets", async () => {
		const text = await readFile(join(import.meta.dirname, "../../.dev.vars.example"), "utf8");
		const vars = parseDevVars(text);
		expect(vars.ADMIN_TOKEN).toBe("dev-admin-token-change-me-0123456789");
		expect(vars.SESSION_SECRET?.length).toBeGreaterThanOrEqual(32);
	});

	it("adds secrets an older .dev.vars lacks, with generated values, and keeps the rest", async () => {
		await writeFile(
			join(dir, ".dev.vars.example"),
			"ADMIN_TOKEN=example\nSESSION_SECRET=example\n",
		);
		await writeFile(join(dir, ".dev.vars"), "ADMIN_TOKEN=mine\n");
		expect(await addMissingDevVars(dir, (name) => `generated-${name}`)).toEqual(["SESSION_SECRET"]);
		expect(parseDevVars(await readFile(join(dir, ".dev.vars"), "utf8"))).toEqual({
			ADMIN_TOKEN: "mine",
			SESSION_SECRET: "generated-SESSION_SECRET",
		});
		expect(await addMissingDevVars(dir, () => "again")).toEqual([]);
	});

	it("takes ADMIN_TOKEN from the environment before .dev.vars", async () => {
		expect(await resolveAdminToken(dir, {})).toBeUndefined();
		await writeFile(join(dir, ".dev.vars"), "ADMIN_TOKEN=file-token\n");
		expect(await resolveAdminToken(dir, {})).toBe("file-token");
		expect(await resolveAdminToken(dir, { ADMIN_TOKEN: "env-token" })).toBe("env-token");
	});
});

describe("waitForUrl", () => {
	it("resolves once the URL answers 200", async () => {
		let calls = 0;
		const server = createServer((_req, res) => {
			calls += 1;
			res.writeHead(calls < 3 ? 503 : 200).end();
		});
		const port = await listen(server, 0, "127.0.0.1");
		try {
			await waitForUrl(`http://127.0.0.1:${port}/health`, { timeoutMs: 5_000, intervalMs: 10 });
			expect(calls).toBe(3);
		} finally {
			await closeServer(server);
		}
	});

	it("gives up after its budget with the last failure", async () => {
		const port = await freePort();
		await expect(
			waitForUrl(`http://127.0.0.1:${port}/health`, { timeoutMs: 100, intervalMs: 20 }),
		).rejects.toThrow(
			`http://127.0.0.1:${port}/health was not ready within 0.1s (last: ECONNREFUSED)`,
		);
	});

	it("stops when its signal aborts", async () => {
		const port = await freePort();
		const controller = new AbortController();
		controller.abort(new Error("child exited"));
		await expect(
			waitForUrl(`http://127.0.0.1:${port}`, { timeoutMs: 10_000, signal: controller.signal }),
		).rejects.toThrow("child exited");
	});
});

describe("gateway API client", () => {
	it("turns the error envelope into GatewayApiError", async () => {
		const gateway = await startFakeGateway();
		try {
			const error = await createMerchant(gateway.url, "wrong", { name: "X" }).catch((e) => e);
			expect(error).toBeInstanceOf(GatewayApiError);
			expect(error).toMatchObject({
				status: 401,
				type: "authentication_error",
				code: "invalid_api_key",
				message: "Invalid API key.",
				requestId: "req_1",
			});
		} finally {
			await gateway.close();
		}
	});

	it("reports an unreachable gateway", async () => {
		const port = await freePort();
		await expect(createMerchant(`http://127.0.0.1:${port}`, "t", { name: "X" })).rejects.toThrow(
			new GatewayUnreachableError(`http://127.0.0.1:${port}/admin/v1/merchants`, "ECONNREFUSED"),
		);
	});
});

describe("demo seeding", () => {
	it("creates, saves, then reuses the demo merchant while its key works", async () => {
		const gateway = await startFakeGateway();
		const file = join(dir, ".dev", "demo-merchant.json");
		try {
			const first = await ensureDemoMerchant({
				gatewayUrl: gateway.url,
				adminToken: ADMIN_TOKEN,
				file,
			});
			expect(first.reused).toBe(false);
			expect(first.response.merchant).toMatchObject({ id: "mch_1", name: "Demo Store" });
			expect(first.secretKey.secret).toBe("sk_test_1abc");
			expect(first.publishableKey?.secret).toBe("pk_test_1abc");
			expect(JSON.parse(await readFile(file, "utf8"))).toEqual(first.response);
			expect((await stat(file)).mode & 0o777).toBe(0o600);
			expect(gateway.requests[0]).toMatchObject({
				method: "POST",
				path: "/admin/v1/merchants",
				body: { name: "Demo Store" },
				headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
			});

			const second = await ensureDemoMerchant({
				gatewayUrl: gateway.url,
				adminToken: ADMIN_TOKEN,
				file,
			});
			expect(second.reused).toBe(true);
			expect(second.response.merchant.id).toBe("mch_1");
			expect(gateway.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
				"POST /admin/v1/merchants",
				"GET /v1/balances",
			]);

			// Wiped local D1: the saved key no longer authenticates.
			gateway.validKeys.clear();
			const third = await ensureDemoMerchant({
				gatewayUrl: gateway.url,
				adminToken: ADMIN_TOKEN,
				file,
			});
			expect(third.reused).toBe(false);
			expect(third.note).toBe("the saved test key was refused (GET /v1/balances → HTTP 401)");
			expect(third.response.merchant.id).toBe("mch_2");
			expect(JSON.parse(await readFile(file, "utf8")).merchant.id).toBe("mch_2");
		} finally {
			await gateway.close();
		}
	});

	it("replaces an unreadable saved file", async () => {
		const gateway = await startFakeGateway();
		const file = join(dir, "demo-merchant.json");
		await writeFile(file, "{not json");
		try {
			const demo = await ensureDemoMerchant({
				gatewayUrl: gateway.url,
				adminToken: ADMIN_TOKEN,
				file,
			});
			expect(demo.reused).toBe(false);
			expect(demo.note).toMatch(/^.*demo-merchant\.json is unreadable \(/);
		} finally {
			await gateway.close();
		}
	});

	it("creates the demo payment with the secret key and a fresh idempotency key", async () => {
		const gateway = await startFakeGateway();
		gateway.validKeys.add("sk_test_x");
		try {
			const payment = await createDemoPayment(gateway.url, "sk_test_x");
			await createDemoPayment(gateway.url, "sk_test_x");
			expect(payment.checkout_url).toBe("http://127.0.0.1:8787/checkout/pay_1");
			const [a, b] = gateway.requests;
			expect(a).toMatchObject({
				method: "POST",
				path: "/v1/payments",
				body: { amount: 2500, currency: "usd", description: "Demo order" },
				headers: { authorization: "Bearer sk_test_x" },
			});
			expect(a?.headers["idempotency-key"]).toMatch(/^[0-9a-f-]{36}$/);
			expect(b?.headers["idempotency-key"]).not.toBe(a?.headers["idempotency-key"]);
		} finally {
			await gateway.close();
		}
	});
});

describe("banner", () => {
	it("shows every URL, the keys and a runnable curl", async () => {
		const gateway = await startFakeGateway();
		try {
			const merchant = await ensureDemoMerchant({
				gatewayUrl: gateway.url,
				adminToken: ADMIN_TOKEN,
				file: join(dir, "m.json"),
			});
			merchant.ownerInvitation = "http://localhost:8787/dashboard/join/inv_1#secret";
			const text = renderBanner({
				gatewayUrl: "http://127.0.0.1:8787",
				sandbox: { solana: "http://s", stripe: "http://t", control: "http://c" },
				demoFile: ".dev/demo-merchant.json",
				merchant,
				payment: { checkout_url: "http://127.0.0.1:8787/checkout/pay_1" },
			});
			for (const part of [
				"http://127.0.0.1:8787/docs",
				// Passkeys need a host name: the dashboard is offered on localhost.
				"http://localhost:8787/dashboard",
				"owner@demo.example: open this one-time link and register a passkey",
				"http://localhost:8787/dashboard/join/inv_1#secret",
				"http://s",
				"http://t",
				"http://c/health",
				"mch_1 (Demo Store), created, saved to .dev/demo-merchant.json",
				"sk_test_1abc",
				"pk_test_1abc",
				"http://127.0.0.1:8787/checkout/pay_1",
				'-H "Authorization: Bearer sk_test_1abc"',
			]) {
				expect(text).toContain(part);
			}
			const failed = renderBanner({
				gatewayUrl: "http://g",
				sandbox: { solana: "s", stripe: "t", control: "c" },
				demoFile: "f",
				merchant: new Error("admin API said no"),
				payment: undefined,
			});
			expect(failed).toContain("NOT SEEDED: admin API said no");
		} finally {
			await gateway.close();
		}
	});

	it("builds a curl that sends the demo payment", () => {
		expect(curlExample("http://g", "sk_test_k")).toBe(
			[
				"curl -X POST http://g/v1/payments \\",
				'  -H "Authorization: Bearer sk_test_k" \\',
				'  -H "Content-Type: application/json" \\',
				"  -H \"Idempotency-Key: $(node -p 'crypto.randomUUID()')\" \\",
				`  -d '{"amount":2500,"currency":"usd","description":"Demo order","payment_method_types":["solana","card"],"solana":{"token":"USDC"}}'`,
			].join("\n"),
		);
	});
});
