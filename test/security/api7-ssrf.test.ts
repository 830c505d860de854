import { beforeAll, describe, expect, it } from "vitest";
import { call, createMerchant, json } from "../worker/helpers/api";
import { expectHouse4xx } from "./helpers/house";
import type { Merchant } from "./helpers/objects";

// OWASP API7:2023 Server Side Request Forgery. The gateway POSTs webhooks to URLs merchants give
// it; none may aim it at the network it runs in. Workers cannot resolve DNS before a fetch, so
// the check judges the host as written (domain/webhooks.ts): every spelling of an internal
// address below must be refused when an endpoint is created and when its URL is changed.

/** Internal targets, spelled every way the URL parser accepts. Refused in both modes. */
const INTERNAL: string[] = [
	// cloud metadata, link-local
	"https://169.254.169.254/latest/meta-data/",
	"https://[fe80::1]/",
	"https://[::ffff:169.254.169.254]/",
	"https://[::ffff:a9fe:a9fe]/",
	"https://metadata.google.internal/computeMetadata/v1/",
	// private ranges
	"https://10.0.0.1/",
	"https://172.16.0.1/",
	"https://172.31.255.255/",
	"https://192.168.1.1/",
	"https://100.64.0.1/",
	"https://[fd00::1]/",
	"https://[fc00::1]/",
	"https://[64:ff9b::10.0.0.1]/",
	"https://[2002:a00:1::]/",
	// unspecified, multicast, reserved
	"https://0.0.0.0/",
	"https://0/",
	"https://[::]/",
	"https://224.0.0.1/",
	"https://255.255.255.255/",
	// local names
	"https://intranet/",
	"https://printer.local/",
	"https://router.home.arpa/",
	"https://db.internal./",
	// not http(s) at all
	"file:///etc/passwd",
	"gopher://127.0.0.1:6379/_INFO",
	"ftp://example.com/",
	"javascript:alert(1)",
	"data:text/plain,hi",
	// credentials in the URL
	"https://good.example@10.0.0.1/",
	"https://user:pass@shop.example/",
];

/** Loopback, spelled every way: allowed in test mode (a receiver on the laptop), never live. */
const LOOPBACK: string[] = [
	"https://127.0.0.1/",
	"https://127.1/",
	"https://2130706433/",
	"https://0x7f000001/",
	"https://0x7f.0.0.1/",
	"https://0177.0.0.1/",
	"https://017700000001/",
	"https://127.000.000.001/",
	"https://１２７.０.０.１/",
	"https://[::1]/",
	"https://[0:0:0:0:0:0:0:1]/",
	"https://[::ffff:127.0.0.1]/",
	"https://[::ffff:7f00:1]/",
	"https://localhost/",
	"https://localhost./",
	"https://LOCALHOST/",
	"https://api.localhost/",
	"https://good.example@127.0.0.1/",
	"https://127.0.0.1:8443/",
];

let m: Merchant;
let liveEndpoint: string;
let testEndpoint: string;

async function endpoint(key: string): Promise<string> {
	const res = await call("POST", "/v1/webhook_endpoints", {
		key,
		body: { url: "https://shop.example/hooks", enabled_events: ["*"] },
	});
	expect(res.status, await res.clone().text()).toBe(200);
	return (await json<{ id: string }>(res)).id;
}

beforeAll(async () => {
	m = await createMerchant();
	liveEndpoint = await endpoint(m.skLive);
	testEndpoint = await endpoint(m.sk);
});

async function expectUrlRefused(res: Response, context: string): Promise<void> {
	const text = await res.clone().text();
	const code = await expectHouse4xx(res, context);
	expect(code, `${context}: ${text}`).toBe("parameter_invalid");
	expect(JSON.parse(text).error.param, context).toBe("url");
}

describe("API7 SSRF: webhook endpoint URLs", () => {
	it.each([...INTERNAL, ...LOOPBACK])(
		"refuses %s in live mode, on create and on update",
		async (url) => {
			await expectUrlRefused(
				await call("POST", "/v1/webhook_endpoints", {
					key: m.skLive,
					body: { url, enabled_events: ["*"] },
				}),
				`create ${url}`,
			);
			await expectUrlRefused(
				await call("POST", `/v1/webhook_endpoints/${liveEndpoint}`, {
					key: m.skLive,
					body: { url },
				}),
				`update to ${url}`,
			);
		},
	);

	it.each(INTERNAL)("refuses %s in test mode too", async (url) => {
		await expectUrlRefused(
			await call("POST", "/v1/webhook_endpoints", {
				key: m.sk,
				body: { url, enabled_events: ["*"] },
			}),
			`test-mode create ${url}`,
		);
		await expectUrlRefused(
			await call("POST", `/v1/webhook_endpoints/${testEndpoint}`, { key: m.sk, body: { url } }),
			`test-mode update to ${url}`,
		);
	});

	it("refuses plain http in live mode, even to a public host", async () => {
		await expectUrlRefused(
			await call("POST", "/v1/webhook_endpoints", {
				key: m.skLive,
				body: { url: "http://shop.example/hooks", enabled_events: ["*"] },
			}),
			"live http",
		);
	});

	it("keeps the live endpoint's URL unchanged after every refused update", async () => {
		const res = await call("GET", `/v1/webhook_endpoints/${liveEndpoint}`, { key: m.skLive });
		expect((await json<{ url: string }>(res)).url).toBe("https://shop.example/hooks");
	});

	it("accepts a public https host in live mode (the check is not refusing everything)", async () => {
		const res = await call("POST", "/v1/webhook_endpoints", {
			key: m.skLive,
			body: { url: "https://hooks.shop.example:8443/in?x=1", enabled_events: ["*"] },
		});
		expect(res.status).toBe(200);
	});
});
