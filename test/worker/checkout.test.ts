import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { CheckoutView } from "../../src/domain/checkout";
import type { SolanaPaymentDetails } from "../../src/domain/payment";
import { call, createMerchant, createPayment, json, type PaymentJson } from "./helpers/api";
import { advanceSlots, detect, fundedPayer, signAndSendBase64, USDC_MINT } from "./helpers/solana";

type SolanaPayment = PaymentJson & { solana: SolanaPaymentDetails };

interface Bootstrap {
	view: CheckoutView;
	checkout_token: string;
	chain: string;
	tokens: { symbol: string; decimals: number }[];
	default_token: string | null;
}

async function page(id: string): Promise<{ res: Response; html: string; boot: Bootstrap | null }> {
	const res = await call("GET", `/checkout/${id}`);
	const html = await res.text();
	const match = /<script type="application\/json" id="checkout-data">([^<]*)<\/script>/.exec(html);
	return { res, html, boot: match?.[1] ? (JSON.parse(match[1]) as Bootstrap) : null };
}

function quoteWithToken(id: string, token: string, body: unknown = { token: "SOL" }) {
	return call("POST", `/v1/payments/${id}/quote`, { key: token, body });
}

/** Opens the payment's live status socket, collecting every view it receives. */
async function openStatusSocket(id: string) {
	const res = await exports.default.fetch(
		new Request(`http://gateway.test/checkout/${id}/ws`, { headers: { Upgrade: "websocket" } }),
	);
	expect(res.status).toBe(101);
	const ws = res.webSocket as WebSocket;
	const views: CheckoutView[] = [];
	const waiters: { when: (v: CheckoutView) => boolean; resolve: (v: CheckoutView) => void }[] = [];
	ws.addEventListener("message", (event) => {
		if (event.data === "pong") return;
		const view = JSON.parse(event.data as string) as CheckoutView;
		views.push(view);
		for (const w of [...waiters]) {
			if (w.when(view)) {
				waiters.splice(waiters.indexOf(w), 1);
				w.resolve(view);
			}
		}
	});
	ws.accept();
	return {
		ws,
		views,
		next(when: (v: CheckoutView) => boolean): Promise<CheckoutView> {
			const seen = views.find(when);
			if (seen) return Promise.resolve(seen);
			return new Promise((resolve) => waiters.push({ when, resolve }));
		},
	};
}

describe("checkout page", () => {
	it("asks who is signed in only when a payer session cookie came with the page", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk, { payment_method_types: ["solana"] });
		const read = async (headers: Record<string, string>) => {
			const html = await (await call("GET", `/checkout/${p.id}`, { headers })).text();
			const match = /<script type="application\/json" id="checkout-data">([^<]*)<\/script>/.exec(
				html,
			);
			return (JSON.parse(match?.[1] ?? "{}") as { payer_session: boolean }).payer_session;
		};
		// No cookie: the page makes no request that would answer 401.
		expect(await read({})).toBe(false);
		expect(await read({ Cookie: "sp_session=anything" })).toBe(true);
	});

	it("renders the payer's view with a strict CSP, its script and no merchant metadata", async () => {
		const m = await createMerchant("Corner Bakery");
		const p = (await createPayment(m.sk, {
			amount: 1250,
			description: "Two croissants",
			metadata: { secret_note: "vip-42" },
			payment_method_types: ["solana"],
			solana: { token: "USDC" },
		})) as SolanaPayment;
		const { res, html, boot } = await page(p.id);
		expect(res.status).toBe(200);
		const csp = res.headers.get("Content-Security-Policy") ?? "";
		expect(csp).toContain("default-src 'none'");
		expect(csp).toContain("script-src 'self'");
		expect(csp).not.toContain("unsafe-inline");
		expect(csp).toContain("frame-ancestors 'none'");
		expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");
		expect(res.headers.get("Cache-Control")).toBe("no-store");
		expect(html).toContain('<html lang="en">');
		expect(html).toContain("Corner Bakery");
		expect(html).toContain("$12.50");
		expect(html).toContain("Two croissants");
		expect(html).toContain('data-status="requires_payment"');
		// Labelled controls.
		expect(html).toContain('<label for="token">');
		expect(html).toContain('id="pay-wallet"');
		// Only this origin's script, no inline code: the only inline <script> is a JSON data block.
		const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((s) => s[1]);
		expect(scripts).toHaveLength(2);
		expect(scripts.filter((s) => s?.includes('type="application/json"'))).toHaveLength(1);
		expect(
			scripts.some((s) => /src="\/checkout\/assets\/checkout\.[0-9a-f]{12}\.js"/.test(s ?? "")),
		).toBe(true);
		// Nothing the payer should not see.
		expect(html).not.toContain("vip-42");
		expect(html).not.toContain(m.merchant.id);
		expect(html).not.toContain("sk_test_");
		expect(boot?.view.solana?.solana_pay_url).toBe(p.solana.solana_pay_url);
		expect(boot?.view).not.toHaveProperty("metadata");
		// wrangler.toml points development (and these tests) at the local network.
		expect(boot?.chain).toBe("solana:localnet");
		expect(boot?.tokens.map((t) => t.symbol)).toEqual(expect.arrayContaining(["SOL", "USDC"]));
		// The QR code and the open-in-wallet link carry the transfer request.
		const url = p.solana.solana_pay_url.replace(/&/g, "&amp;");
		expect(html).toContain(`id="qr" data-url="${url}"`);
		expect(html).toMatch(/<div id="qr"[^>]*><svg [^>]*role="img"/);
		expect(html).toContain(`id="open-in-wallet" href="${url}"`);
	});

	it("keeps the page small: HTML and script under 100 KB compressed together", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk, {
			payment_method_types: ["solana"],
			solana: { token: "SOL" },
		});
		const { html } = await page(p.id);
		const src = /src="(\/checkout\/assets\/checkout\.[0-9a-f]+\.js)"/.exec(html)?.[1] as string;
		const css = /href="(\/checkout\/assets\/checkout\.[0-9a-f]+\.css)"/.exec(html)?.[1] as string;
		const script = await call("GET", src);
		expect(script.headers.get("Content-Type")).toContain("text/javascript");
		expect(script.headers.get("Cache-Control")).toContain("immutable");
		const style = await call("GET", css);
		expect(style.headers.get("Content-Type")).toContain("text/css");
		const gzip = async (text: string) =>
			(
				await new Response(
					new Blob([text]).stream().pipeThrough(new CompressionStream("gzip")),
				).arrayBuffer()
			).byteLength;
		const total =
			(await gzip(html)) + (await gzip(await script.text())) + (await gzip(await style.text()));
		expect(total).toBeLessThan(100 * 1024);
		expect((await call("GET", "/checkout/assets/checkout.000000000000.js")).status).toBe(404);
	});

	it("is a 404 page for an unknown payment", async () => {
		const { res, html } = await page("pay_0000000000ZZZZZZZZZZZZZZZZZZZZ");
		expect(res.status).toBe(404);
		expect(html).toContain("Payment not found");
		expect(html).not.toContain("<script");
	});

	it("serves the payer's status as JSON without metadata", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk, { metadata: { order: "A-1" } });
		const res = await call("GET", `/checkout/${p.id}/status`);
		expect(res.status).toBe(200);
		const view = await json<CheckoutView>(res);
		expect(view).toMatchObject({
			id: p.id,
			status: "requires_payment",
			amount: 2500,
			currency: "usd",
		});
		expect(view).not.toHaveProperty("metadata");
		expect(view).not.toHaveProperty("merchant_id");
		expect((await call("GET", "/checkout/pay_0000000000ZZZZZZZZZZZZZZZZZZZZ/status")).status).toBe(
			404,
		);
	});

	it("serves the current transfer request as an SVG QR code", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk, {
			payment_method_types: ["solana"],
			solana: { token: "SOL" },
		});
		const res = await call("GET", `/checkout/${p.id}/qr.svg`);
		expect(res.headers.get("Content-Type")).toBe("image/svg+xml");
		const svg = await res.text();
		expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 \d+ \d+"/);
		expect(svg).not.toContain("<script");
		const card = await createPayment(m.sk, { payment_method_types: ["card"] });
		expect((await call("GET", `/checkout/${card.id}/qr.svg`)).status).toBe(404);
	});
});

describe("checkout token", () => {
	it("re-quotes its own payment and gets the payer's view back", async () => {
		const m = await createMerchant();
		const p = (await createPayment(m.sk, {
			payment_method_types: ["solana"],
			solana: { token: "USDC" },
			metadata: { internal: "x" },
		})) as SolanaPayment;
		const { boot } = await page(p.id);
		const res = await quoteWithToken(p.id, boot?.checkout_token as string);
		expect(res.status).toBe(200);
		const view = await json<CheckoutView>(res);
		expect(view.solana?.token).toBe("SOL");
		expect(view.solana?.reference).not.toBe(p.solana.reference);
		expect(view).not.toHaveProperty("metadata");
		// The merchant sees the new quote too.
		const retrieved = await json<SolanaPayment>(
			await call("GET", `/v1/payments/${p.id}`, { key: m.sk }),
		);
		expect(retrieved.solana.token).toBe("SOL");
	});

	it("quotes a payment created without a token", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk, { payment_method_types: ["solana"] });
		const { boot } = await page(p.id);
		expect(boot?.view.solana).toBeNull();
		expect(boot?.default_token).toBe("SOL");
		const res = await quoteWithToken(p.id, boot?.checkout_token as string, { token: "USDC" });
		expect(res.status).toBe(200);
		expect((await json<CheckoutView>(res)).solana?.token).toBe("USDC");
	});

	it("is refused for any other payment, for other endpoints, and when forged", async () => {
		const m = await createMerchant();
		const a = await createPayment(m.sk, { payment_method_types: ["solana"] });
		const b = await createPayment(m.sk, { payment_method_types: ["solana"] });
		const token = (await page(a.id)).boot?.checkout_token as string;
		const other = await quoteWithToken(b.id, token);
		expect(other.status).toBe(401);
		expect((await json<{ error: { code: string } }>(other)).error.code).toBe("api_key_invalid");
		expect((await call("GET", `/v1/payments/${a.id}`, { key: token })).status).toBe(401);
		expect((await call("GET", "/v1/payments", { key: token })).status).toBe(401);
		const [h, payload, sig] = token.split(".");
		const forged = `${h}.${payload}.${(sig as string).slice(0, -2)}AA`;
		expect((await quoteWithToken(a.id, forged)).status).toBe(401);
	});
});

describe("live status socket", () => {
	it("sends the view at once and after every change, until the payment is done", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk, {
			payment_method_types: ["solana"],
			solana: { token: "SOL" },
		});
		const live = await openStatusSocket(p.id);
		const first = await live.next(() => true);
		expect(first).toMatchObject({ id: p.id, status: "requires_payment" });
		expect(first).not.toHaveProperty("metadata");
		expect((await call("POST", `/v1/payments/${p.id}/cancel`, { key: m.sk })).status).toBe(200);
		const canceled = await live.next((v) => v.status === "canceled");
		expect(canceled.id).toBe(p.id);
		live.ws.close();
	});

	it("follows a Solana payment from waiting to paid", async () => {
		const m = await createMerchant();
		const p = (await createPayment(m.sk, {
			payment_method_types: ["solana"],
			solana: { token: "USDC" },
			amount: 500,
		})) as SolanaPayment;
		const live = await openStatusSocket(p.id);
		await live.next((v) => v.status === "requires_payment");
		const payer = await fundedPayer([{ mint: USDC_MINT, amount: 100_000_000n }]);
		const built = await call("POST", `/solana-pay/${p.id}`, { body: { account: payer.address } });
		const { transaction } = await json<{ transaction: string }>(built);
		await signAndSendBase64(payer, transaction);
		await advanceSlots(8);
		await detect(p.id);
		const paid = await live.next((v) => v.status === "succeeded");
		expect(paid.solana?.signature).toBeTruthy();
		expect(paid.succeeded_at).toBeGreaterThan(0);
		live.ws.close();
		// The page opened again shows the receipt: amount, token, the transaction and when.
		const { html } = await page(p.id);
		const receipt = /<section id="receipt"[^>]*>(.*?)<\/section>/.exec(html)?.[1] ?? "";
		expect(html).not.toMatch(/<section id="receipt"[^>]*hidden/);
		expect(receipt).toContain('<dd id="receipt-amount">$5.00</dd>');
		expect(receipt).toMatch(/<dd id="receipt-token">[\d.]+ USDC<\/dd>/);
		expect(receipt).toContain(
			`href="https://explorer.solana.com/tx/${paid.solana?.signature}?cluster=custom&amp;customUrl=`,
		);
		expect(receipt).toContain(
			`<time id="receipt-time" datetime="${new Date((paid.succeeded_at ?? 0) * 1000).toISOString()}"`,
		);
	});

	it("speaks the payer's language from Accept-Language, English when it has none of theirs", async () => {
		const m = await createMerchant("Panadería");
		const p = await createPayment(m.sk, {
			amount: 123456,
			currency: "eur",
			payment_method_types: ["solana"],
			solana: { token: "USDC" },
		});
		const open = (language: string) =>
			call("GET", `/checkout/${p.id}`, { headers: { "Accept-Language": language } });
		const es = await open("es-ES,es;q=0.9,en;q=0.5");
		const html = await es.text();
		expect(es.headers.get("Content-Language")).toBe("es");
		expect(es.headers.get("Vary")).toContain("Accept-Language");
		expect(html).toContain('<html lang="es">');
		expect(html).toContain("<title>Pagar a Panadería</title>");
		expect(html).toContain("Esperando el pago");
		// Amounts and dates formatted for es-ES from the integer minor units.
		expect(html).toContain('<h1 id="amount">1234,56\u00a0€</h1>');
		expect(html).toMatch(/Paga antes del <time datetime="[^"]+" data-unix="\d+">[^<]*UTC<\/time>/);
		const ja = await (await open("ja-JP")).text();
		expect(ja).toContain('<html lang="ja">');
		expect(ja).toContain("お支払いをお待ちしています");
		const nl = await open("nl-NL, *;q=0.1");
		expect(nl.headers.get("Content-Language")).toBe("en");
		expect(await nl.text()).toContain("Waiting for payment");
	});

	it("offers a phone the wallets' browse links first and never a disabled pay button", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk, {
			payment_method_types: ["solana"],
			solana: { token: "USDC" },
		});
		const iphone =
			"Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";
		const res = await call("GET", `/checkout/${p.id}`, { headers: { "User-Agent": iphone } });
		const html = await res.text();
		expect(html).toContain('<html lang="en" data-mobile="">');
		const checkout = encodeURIComponent(p.checkout_url);
		const ref = encodeURIComponent(new URL(p.checkout_url).origin);
		expect(html).toContain(`href="https://phantom.app/ul/browse/${checkout}?ref=${ref}"`);
		expect(html).toContain(`href="https://solflare.com/ul/v1/browse/${checkout}?ref=${ref}"`);
		// The wallet button waits, hidden, for the script to find a wallet.
		expect(html).toContain('<button id="pay-wallet" type="button" hidden="">');
		expect(html).not.toMatch(/<button id="pay-wallet"[^>]*disabled/);
		const desktop = await (await call("GET", `/checkout/${p.id}`)).text();
		expect(desktop).toContain('<html lang="en">');
	});

	it("answers pings without a view and refuses a plain GET", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk);
		const live = await openStatusSocket(p.id);
		await live.next(() => true);
		const pong = new Promise<string>((resolve) =>
			live.ws.addEventListener("message", (e) => {
				if (e.data === "pong") resolve(e.data as string);
			}),
		);
		live.ws.send("ping");
		expect(await pong).toBe("pong");
		live.ws.close();
		expect((await call("GET", `/checkout/${p.id}/ws`)).status).toBe(400);
		const unknown = await exports.default.fetch(
			new Request("http://gateway.test/checkout/pay_0000000000ZZZZZZZZZZZZZZZZZZZZ/ws", {
				headers: { Upgrade: "websocket" },
			}),
		);
		expect(unknown.status).toBe(404);
	});
});

describe("payer-facing rate limit", () => {
	it("answers 429 with Retry-After per client IP, but never for the hashed assets", async () => {
		const { createExecutionContext, waitOnExecutionContext } = await import("cloudflare:test");
		const { env } = await import("cloudflare:workers");
		const worker = (await import("../../src/index")).default;
		const m = await createMerchant();
		const p = await createPayment(m.sk, {
			payment_method_types: ["solana"],
			solana: { token: "SOL" },
		});
		const keys: string[] = [];
		const spent = {
			limit: async ({ key }: { key: string }) => {
				keys.push(key);
				return { success: false };
			},
		} as RateLimit;
		const send = async (
			path: string,
			init: { method?: string; headers?: Record<string, string>; body?: string } = {},
		) => {
			const ctx = createExecutionContext();
			const res = await worker.fetch(
				new Request(`http://gateway.test${path}`, {
					method: init.method ?? "GET",
					body: init.body,
					headers: { "CF-Connecting-IP": "198.51.100.4", ...init.headers },
				}) as Request<unknown, IncomingRequestCfProperties>,
				{ ...env, CHECKOUT_RATE_LIMITER: spent },
				ctx,
			);
			await waitOnExecutionContext(ctx);
			return res;
		};
		for (const res of [
			await send(`/checkout/${p.id}`),
			await send(`/checkout/${p.id}/status`),
			await send(`/solana-pay/${p.id}`, {
				method: "POST",
				headers: { "Content-Type": "application/json" },
				body: JSON.stringify({ account: "FfhRJjMahc9vwPHH7W9hea1FoKgrGfkc9xvFnMN35w5F" }),
			}),
		]) {
			expect(res.status).toBe(429);
			expect(res.headers.get("Retry-After")).toBe("60");
		}
		expect(keys).toEqual(["198.51.100.4", "198.51.100.4", "198.51.100.4"]);
		const html = await (await call("GET", `/checkout/${p.id}`)).text();
		const src = /src="(\/checkout\/assets\/[^"]+)"/.exec(html)?.[1] as string;
		expect((await send(src)).status).toBe(200);
	});
});
