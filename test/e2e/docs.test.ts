import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { CHROMIUM_PATH } from "./helpers/chromium";

// /docs with the network off: every request to anything but this machine is refused, and the
// interactive reference still renders the API's operations (Swagger UI is served by the gateway).

let browser: Browser;

beforeAll(async () => {
	browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true });
});
afterAll(async () => {
	await browser?.close();
});

function isLoopback(url: string): boolean {
	const { protocol, hostname } = new URL(url);
	if (protocol === "data:" || protocol === "blob:") return true;
	return hostname === "localhost" || hostname === "[::1]" || /^127\./.test(hostname);
}

describe("/docs offline", () => {
	test("renders the operations with every non-loopback request blocked", async () => {
		const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
		const refused: string[] = [];
		const failed: string[] = [];
		const consoleErrors: string[] = [];
		try {
			await context.route("**/*", (route) => {
				const url = route.request().url();
				if (isLoopback(url)) return route.continue();
				refused.push(url);
				return route.abort("internetdisconnected");
			});
			const page = await context.newPage();
			page.on("requestfailed", (request) => failed.push(request.url()));
			page.on("console", (message) => {
				if (message.type() === "error") consoleErrors.push(message.text());
			});
			await page.goto(`${inject("gatewayUrl")}/docs`);
			await page.waitForSelector(".opblock", { timeout: 30_000 });
			const paths = await page.locator(".opblock-summary-path").allTextContents();
			const normalised = paths.map((p) => p.replace(/\u200b/g, "").trim());
			expect(normalised).toContain("/v1/payments");
			expect(normalised).toContain("/v1/refunds");
			expect(normalised.length).toBeGreaterThan(20);
			await expect
				.poll(() => page.locator(".info .title").textContent())
				.toContain("StreamPayments API");
			// It never even tried to reach the outside, and nothing the page loaded failed.
			expect(refused).toEqual([]);
			expect(failed).toEqual([]);
			expect(consoleErrors).toEqual([]);
		} finally {
			await context.close();
		}
	});
});
