import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runMerchantCreate, USAGE } from "../../scripts/lib/merchant-cli.js";
import { ADMIN_TOKEN, startFakeGateway } from "./fake-gateway.js";
import { freePort } from "./helpers.js";

let dir: string;
let gateway: Awaited<ReturnType<typeof startFakeGateway>>;
beforeEach(async () => {
	dir = await mkdtemp(join(tmpdir(), "sp-cli-"));
	gateway = await startFakeGateway();
});
afterEach(async () => {
	await gateway.close();
	await rm(dir, { recursive: true, force: true });
});

async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
	let stdout = "";
	let stderr = "";
	const code = await runMerchantCreate(argv, {
		env: { GATEWAY_URL: gateway.url, ADMIN_TOKEN, ...env },
		root: dir,
		stdout: (text) => {
			stdout += text;
		},
		stderr: (text) => {
			stderr += text;
		},
	});
	return { code, stdout, stderr };
}

describe("merchant:create", () => {
	it("prints a summary with every key and the shown-once warning", async () => {
		const out = await run(["--name", "Acme", "--email", "ops@acme.test"]);
		expect(out).toEqual({
			code: 0,
			stderr: "",
			stdout: [
				"Created merchant mch_1 (Acme)",
				"  email: ops@acme.test",
				"",
				"API keys (shown only once: store them now, they cannot be retrieved again):",
				"  secret       test  sk_test_1abc",
				"  publishable  test  pk_test_1abc",
				"",
			].join("\n"),
		});
		expect(gateway.requests[0]?.body).toEqual({ name: "Acme", email: "ops@acme.test" });
	});

	it("prints the response as JSON with --json", async () => {
		const out = await run(["--name", "Acme", "--json"]);
		expect(out.code).toBe(0);
		const body = JSON.parse(out.stdout);
		expect(body.merchant).toMatchObject({ id: "mch_1", object: "merchant", name: "Acme" });
		expect(body.keys).toHaveLength(2);
		expect(gateway.requests[0]?.body).toEqual({ name: "Acme" });
	});

	it.each([
		[[], "--name is required"],
		[["--name", "  "], "--name is required"],
		[["--name"], "Option '--name <value>' argument missing"],
		[["--name", "A", "--bogus"], "Unknown option '--bogus'"],
		[["--name", "A", "extra"], "Unexpected argument 'extra'"],
		[["--name", "A", "--url", "ftp://x"], "not an http(s) URL: ftp://x"],
	])("exits 2 with usage for %j", async (argv, message) => {
		const out = await run(argv);
		expect(out.code).toBe(2);
		expect(out.stdout).toBe("");
		expect(out.stderr).toContain(message);
		expect(out.stderr).toContain(USAGE);
		expect(gateway.requests).toEqual([]);
	});

	it("prints the API error message and code, exiting 1", async () => {
		gateway.state.failCreate = {
			status: 400,
			body: {
				error: {
					type: "invalid_request_error",
					code: "parameter_invalid",
					message: "name is too long",
					param: "name",
					request_id: "req_42",
				},
			},
		};
		const out = await run(["--name", "A"]);
		expect(out).toEqual({
			code: 1,
			stdout: "",
			stderr:
				"Error: name is too long (code: parameter_invalid, HTTP 400, param: name, request: req_42)\n",
		});
	});

	it("exits 1 on a rejected admin token", async () => {
		const out = await run(["--name", "A"], { ADMIN_TOKEN: "wrong" });
		expect(out.code).toBe(1);
		expect(out.stderr).toBe(
			"Error: Invalid API key. (code: invalid_api_key, HTTP 401, request: req_1)\n",
		);
	});

	it("falls back to .dev.vars for the token and honours --url over GATEWAY_URL", async () => {
		await writeFile(join(dir, ".dev.vars"), `ADMIN_TOKEN=${ADMIN_TOKEN}\n`);
		const out = await run(["--name", "A", "--url", gateway.url], {
			ADMIN_TOKEN: "",
			GATEWAY_URL: "http://127.0.0.1:1",
		});
		expect(out.code).toBe(0);
		expect(gateway.requests[0]?.headers.authorization).toBe(`Bearer ${ADMIN_TOKEN}`);
	});

	it("exits 1 without an admin token anywhere", async () => {
		const out = await run(["--name", "A"], { ADMIN_TOKEN: "" });
		expect(out.code).toBe(1);
		expect(out.stderr).toContain("No admin token: set ADMIN_TOKEN or add it to .dev.vars");
	});

	it("explains an unreachable gateway", async () => {
		const port = await freePort();
		const out = await run(["--name", "A", "--url", `http://127.0.0.1:${port}`]);
		expect(out).toEqual({
			code: 1,
			stdout: "",
			stderr: `Error: could not reach http://127.0.0.1:${port}/admin/v1/merchants (ECONNREFUSED). Is the gateway running (npm run dev)?\n`,
		});
	});
});
