import { describe, expect, it } from "vitest";
import { readSandboxConfig, SANDBOX_DEFAULTS } from "../../sandbox/config.js";
import { formatUrl, isLoopbackHost } from "../../sandbox/http.js";

describe("readSandboxConfig", () => {
	it("defaults to the validator and stripe-mock ports on loopback", () => {
		expect(readSandboxConfig({})).toEqual({
			host: "127.0.0.1",
			solanaPort: 8899,
			stripePort: 12111,
			controlPort: 8890,
		});
		expect(readSandboxConfig({ SOLANA_RPC_PORT: "" })).toEqual(SANDBOX_DEFAULTS);
	});

	it("reads every variable", () => {
		expect(
			readSandboxConfig({
				SANDBOX_HOST: "::1",
				SOLANA_RPC_PORT: "0",
				STRIPE_PORT: " 12112 ",
				SANDBOX_CONTROL_PORT: "65535",
			}),
		).toEqual({ host: "::1", solanaPort: 0, stripePort: 12112, controlPort: 65535 });
	});

	it.each(["abc", "-1", "1.5", "65536", "0x10"])("rejects port %j", (value) => {
		expect(() => readSandboxConfig({ STRIPE_PORT: value })).toThrow(
			`STRIPE_PORT must be a port number between 0 and 65535, got "${value}"`,
		);
	});
});

describe("address helpers", () => {
	it.each([
		["127.0.0.1", true],
		["127.1.2.3", true],
		["localhost", true],
		["::1", true],
		["0.0.0.0", false],
		["::", false],
		["192.168.1.10", false],
		["128.0.0.1", false],
	])("isLoopbackHost(%j) is %s", (host, expected) => {
		expect(isLoopbackHost(host)).toBe(expected);
	});

	it("brackets IPv6 hosts in URLs", () => {
		expect(formatUrl("::1", 8899)).toBe("http://[::1]:8899");
		expect(formatUrl("127.0.0.1", 8899)).toBe("http://127.0.0.1:8899");
	});
});
