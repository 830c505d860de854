import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/server.js";
import { canBind, freePort, occupyPort, portOf } from "./helpers.js";

describe("startSandbox", () => {
	let sandbox: Sandbox;
	const startedBefore = Date.now();

	beforeAll(async () => {
		sandbox = await startSandbox({ solanaPort: 0, stripePort: 0, controlPort: 0 });
	});
	afterAll(() => sandbox.close());

	it("binds loopback and reports the real ports when asked for port 0", () => {
		for (const url of Object.values(sandbox.urls)) {
			expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
			expect(portOf(url)).toBeGreaterThan(0);
		}
		const ports = new Set(Object.values(sandbox.urls).map(portOf));
		expect(ports.size).toBe(3);
	});

	it("serves the control health check with the service URLs", async () => {
		const res = await fetch(`${sandbox.urls.control}/health`);
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
		const body = (await res.json()) as { started_at: string };
		expect(body).toEqual({
			status: "ok",
			services: { solana: sandbox.urls.solana, stripe: sandbox.urls.stripe },
			started_at: body.started_at,
		});
		expect(new Date(body.started_at).toISOString()).toBe(body.started_at);
		expect(Date.parse(body.started_at)).toBeGreaterThanOrEqual(startedBefore - 1000);
	});

	it("answers unknown control routes with a JSON 404", async () => {
		const res = await fetch(`${sandbox.urls.control}/nope`);
		expect(res.status).toBe(404);
		expect(await res.json()).toEqual({
			error: { code: "not_found", message: "No route for GET /nope" },
		});
	});

	it("serves the validator-style health endpoint on the Solana port", async () => {
		const res = await fetch(`${sandbox.urls.solana}/health`);
		expect(res.status).toBe(200);
		expect(await res.text()).toBe("ok");
	});

	it("serves the Stripe emulator health check", async () => {
		const res = await fetch(`${sandbox.urls.stripe}/health`);
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ status: "ok" });
	});
});

describe("sandbox lifecycle", () => {
	it("releases every port on close, even with keep-alive connections open", async () => {
		const sandbox = await startSandbox({ solanaPort: 0, stripePort: 0, controlPort: 0 });
		// fetch keeps the socket alive; close() must not wait for it to time out.
		for (const url of Object.values(sandbox.urls)) {
			expect((await fetch(`${url}/health`)).status).toBe(200);
		}
		await sandbox.close();
		await sandbox.close();
		for (const url of Object.values(sandbox.urls)) {
			expect(await canBind(portOf(url))).toBe(true);
			await expect(fetch(`${url}/health`)).rejects.toThrow();
		}
	});

	it("uses fixed ports when given", async () => {
		const port = await freePort();
		const sandbox = await startSandbox({ solanaPort: port, stripePort: 0, controlPort: 0 });
		try {
			expect(sandbox.urls.solana).toBe(`http://127.0.0.1:${port}`);
		} finally {
			await sandbox.close();
		}
	});

	it("fails to start on a busy port and releases the ports it had already bound", async () => {
		const busy = await occupyPort();
		const solanaPort = await freePort();
		try {
			await expect(
				startSandbox({ solanaPort, stripePort: busy.port, controlPort: 0 }),
			).rejects.toThrow(
				`sandbox Stripe emulator could not listen on http://127.0.0.1:${busy.port}: listen EADDRINUSE`,
			);
			expect(await canBind(solanaPort)).toBe(true);
		} finally {
			await busy.release();
		}
	});

	it("refuses to bind anything but loopback", async () => {
		await expect(startSandbox({ host: "0.0.0.0", solanaPort: 0 })).rejects.toThrow(
			'sandbox host must be a loopback address (127.0.0.1, ::1, localhost), got "0.0.0.0"',
		);
	});

	it("rejects out-of-range ports before binding", async () => {
		await expect(startSandbox({ solanaPort: 70000 })).rejects.toThrow(
			"solanaPort must be an integer between 0 and 65535, got 70000",
		);
	});
});
