import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { raw } from "hono/html";
import {
	CHECKOUT_STATUS_TEXT,
	type CheckoutView,
	checkoutView,
	formatCountdown,
	formatTokenAmount,
} from "../domain/checkout";
import { formatMinorUnits } from "../domain/money";
import type { PaymentRecord } from "../domain/payment";
import { isTerminal } from "../domain/payment-state";
import { CLIENT_ASSETS } from "../generated/client-assets";
import { signCheckoutToken } from "../lib/checkout-token";
import { ApiError, notFound } from "../lib/errors";
import { hashText, jsonForScript, setPageSecurityHeaders } from "../lib/html";
import { isId } from "../lib/ids";
import { stripeConfigured } from "../processors/stripe/client";
import { openCardIntent } from "../services/cards";
import { getMerchant } from "../services/merchants";
import { paymentStub, requestCountry } from "../services/payments";
import { solanaQuotePolicy } from "../services/solana-quote";
import type { App, AppEnv } from "../types";
import { qrSvg } from "./qr";
import { SESSION_COOKIE } from "./session";
import { CHECKOUT_CSS } from "./styles";

const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#111"/><path d="M18 40c8 6 20 6 28 0M18 24c8-6 20-6 28 0" stroke="#14f195" stroke-width="6" fill="none" stroke-linecap="round"/></svg>`;

const SCRIPT = CLIENT_ASSETS["checkout.js"] ?? { code: "", hash: "missing" };
const CSS_HASH = hashText(CHECKOUT_CSS);
const SCRIPT_PATH = `/checkout/assets/checkout.${SCRIPT.hash}.js`;
const CSS_PATH = `/checkout/assets/checkout.${CSS_HASH}.css`;

/** Solana cluster → the Wallet Standard chain id wallets expect. */
const CHAINS: Record<string, string> = {
	"mainnet-beta": "solana:mainnet",
	devnet: "solana:devnet",
	testnet: "solana:testnet",
	localnet: "solana:localnet",
};

/** What the page's script starts from (a JSON data block: not executed, so CSP allows it). */
export interface CheckoutBootstrap {
	view: CheckoutView;
	checkout_token: string;
	chain: string;
	tokens: { symbol: string; decimals: number }[];
	default_token: string | null;
	status_text: Record<string, string>;
	/**
	 * The request carried a payer session cookie (HttpOnly, so the page cannot see it): only then
	 * does the page ask who is signed in, so a payer without one sees no failed request.
	 */
	payer_session: boolean;
}

/**
 * Security headers of every checkout response: a strict CSP (scripts and styles only from this
 * origin, no inline script), no framing, no referrer, and HSTS on https.
 */
function secureHeaders(c: Context<AppEnv>, card = false): void {
	const base = new URL(c.env.PUBLIC_BASE_URL);
	const ws = `${base.protocol === "https:" ? "wss:" : "ws:"}//${base.host}`;
	// Stripe's own script, frames and API, only on pages that offer the card tab.
	const stripeJs = card ? ` ${new URL(stripeJsUrl(c.env)).origin}` : "";
	const stripeApi = card
		? ` ${new URL(c.env.STRIPE_API_URL ?? "https://api.stripe.com").origin}`
		: "";
	setPageSecurityHeaders(c, [
		"default-src 'none'",
		`script-src 'self'${stripeJs}`,
		"style-src 'self'",
		"img-src 'self' data:",
		`connect-src 'self' ${ws}${stripeJs}${stripeApi}`,
		...(card ? [`frame-src${stripeJs}`] : []),
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	]);
	c.header("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
}

function stripeJsUrl(env: AppEnv["Bindings"]): string {
	return env.STRIPE_JS_URL ?? "https://js.stripe.com/v3/";
}

async function openPayment(c: Context<AppEnv>, id: string): Promise<PaymentRecord | null> {
	return isId("payment", id) ? paymentStub(c.env, id).get() : null;
}

/**
 * The payer's checkout, authorised by the payment's unguessable id alone. The page shows only
 * what the payer needs; its script gets a checkout token that can re-quote this payment and
 * nothing else, and follows the payment's status over a WebSocket (polling as a fallback).
 */
export function registerCheckout(app: App): void {
	// Wallets show this next to the merchant's name in a Solana Pay transaction request.
	app.get("/favicon.svg", (c) => {
		c.header("Content-Type", "image/svg+xml");
		c.header("Cache-Control", "public, max-age=86400");
		return c.body(ICON);
	});

	// Content-hashed names: a deploy changes the name, so browsers may cache them forever.
	app.get("/checkout/assets/:file", (c) => {
		const file = c.req.param("file");
		c.header("X-Content-Type-Options", "nosniff");
		c.header("Cache-Control", "public, max-age=31536000, immutable");
		if (file === SCRIPT_PATH.slice("/checkout/assets/".length)) {
			c.header("Content-Type", "text/javascript; charset=utf-8");
			return c.body(SCRIPT.code);
		}
		if (file === CSS_PATH.slice("/checkout/assets/".length)) {
			c.header("Content-Type", "text/css; charset=utf-8");
			return c.body(CHECKOUT_CSS);
		}
		throw new ApiError("route_not_found", `No checkout asset named '${file}'.`);
	});

	app.get("/checkout/:id/status", async (c) => {
		const id = c.req.param("id");
		const payment = await openPayment(c, id);
		if (!payment) throw notFound("payment", id);
		c.header("Cache-Control", "no-store");
		if (payment.solana && !isTerminal(payment.status)) {
			// A polling page is a payer on the page: keep the chain watched.
			c.executionCtx.waitUntil(paymentStub(c.env, id).touch("watched"));
		}
		return c.json(checkoutView(payment));
	});

	// The wallet path's fast path: the checkout reports the signature its wallet returned. The
	// payment's object checks it on chain before anything changes; it only hastens detection.
	app.post("/checkout/:id/signature", async (c) => {
		const id = c.req.param("id");
		if (!isId("payment", id)) throw notFound("payment", id);
		const body = (await c.req.json().catch(() => null)) as { signature?: unknown } | null;
		const signature = body?.signature;
		if (typeof signature !== "string" || !/^[1-9A-HJ-NP-Za-km-z]{64,88}$/.test(signature)) {
			throw new ApiError(
				"parameter_invalid",
				"signature must be a base58 transaction signature.",
				"signature",
			);
		}
		const payment = await paymentStub(c.env, id).signatureHint(signature);
		if (!payment) throw notFound("payment", id);
		c.header("Cache-Control", "no-store");
		return c.json(checkoutView(payment));
	});

	app.get("/checkout/:id/ws", async (c) => {
		const id = c.req.param("id");
		if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
			throw new ApiError("parameter_invalid", "This endpoint expects a WebSocket upgrade.");
		}
		if (!isId("payment", id)) throw notFound("payment", id);
		const response = await paymentStub(c.env, id).fetch(c.req.raw);
		if (response.status === 404) throw notFound("payment", id);
		if (response.status !== 101) {
			throw new ApiError("rate_limited", "Too many open status connections for this payment.");
		}
		// A fresh response: the object's has immutable headers, and middleware adds a request id.
		return new Response(null, { status: 101, webSocket: response.webSocket });
	});

	// The card tab asks for its PaymentIntent's client secret when the payer opens it.
	app.post("/checkout/:id/card", async (c) => {
		const id = c.req.param("id");
		const payment = await openPayment(c, id);
		if (!payment) throw notFound("payment", id);
		// A payer abroad may be charged in their own currency (the merchant's card_presentment).
		const { client_secret } = await openCardIntent(c.env, payment, {
			payerCountry: requestCountry(c.req.raw),
		});
		c.header("Cache-Control", "no-store");
		return c.json({
			client_secret,
			publishable_key: c.env.STRIPE_PUBLISHABLE_KEY,
			js_url: stripeJsUrl(c.env),
			return_url: payment.checkout_url,
		});
	});

	app.get("/checkout/:id/qr.svg", async (c) => {
		const id = c.req.param("id");
		const payment = await openPayment(c, id);
		if (!payment?.solana) throw notFound("payment", id);
		c.header("Content-Type", "image/svg+xml");
		c.header("Cache-Control", "no-store");
		c.header("X-Content-Type-Options", "nosniff");
		return c.body(qrSvg(payment.solana.solana_pay_url, "Solana Pay QR code"));
	});

	app.get("/checkout/:id", async (c) => {
		const id = c.req.param("id");
		c.header("Cache-Control", "no-store");
		const payment = await openPayment(c, id);
		const acceptsCard =
			!!payment && payment.payment_method_types.includes("card") && stripeConfigured(c.env);
		secureHeaders(c, acceptsCard);
		if (!payment) {
			c.status(404);
			return c.html(
				<Page title="Payment not found">
					<main id="checkout" data-status="not_found">
						<h1>Payment not found</h1>
						<p>Check the link you were given, or ask the merchant for a new one.</p>
					</main>
				</Page>,
			);
		}
		const merchant = await getMerchant(c.env.DB, payment.merchant_id);
		// Open for the payer: an authorised card (requires_capture) waits only for the merchant.
		const open = payment.status === "requires_payment" || payment.status === "processing";
		if (payment.solana && open) {
			// The payer is looking at the page: the payment's object watches the chain more often.
			c.executionCtx.waitUntil(paymentStub(c.env, id).touch("watched"));
		}
		// The tokens a re-quote will accept: the merchant's list narrowed by the payment's routing rule.
		const tokens = solanaQuotePolicy(c.env, payment, merchant?.settings ?? {}).tokens.map((t) => ({
			symbol: t.symbol,
			decimals: t.decimals,
		}));
		const view = checkoutView(payment);
		const bootstrap: CheckoutBootstrap = {
			view,
			// Valid as long as the payment can still be quoted.
			checkout_token: await signCheckoutToken(
				c.env.SESSION_SECRET,
				{ paymentId: payment.id, merchantId: payment.merchant_id, livemode: payment.livemode },
				payment.expires_at,
			),
			chain: CHAINS[c.env.SOLANA_CLUSTER ?? "mainnet-beta"] ?? "solana:mainnet",
			tokens,
			default_token: payment.solana?.token ?? tokens[0]?.symbol ?? null,
			status_text: CHECKOUT_STATUS_TEXT,
			payer_session: getCookie(c, SESSION_COOKIE) !== undefined,
		};
		const merchantName = merchant?.name ?? "StreamPayments";
		const amount = `${formatMinorUnits(payment.amount, payment.currency)} ${payment.currency.toUpperCase()}`;
		const acceptsSolana = payment.payment_method_types.includes("solana");
		const both = acceptsSolana && acceptsCard;
		return c.html(
			<Page title={`Pay ${merchantName}`} bootstrap={bootstrap}>
				<main id="checkout" data-status={payment.status} data-payment={payment.id}>
					<p class="merchant">
						{merchantName}
						{!payment.livemode ? <span class="test">Test mode</span> : null}
					</p>
					<h1 id="amount">{amount}</h1>
					{payment.description ? <p class="description">{payment.description}</p> : null}
					<p id="status" role="status" aria-live="polite">
						{CHECKOUT_STATUS_TEXT[payment.status]}
					</p>
					{both && open ? (
						<div role="tablist" aria-label="Payment method" class="tabs">
							<button
								type="button"
								role="tab"
								id="tab-crypto"
								aria-controls="pay-crypto"
								aria-selected="true"
							>
								Crypto
							</button>
							<button
								type="button"
								role="tab"
								id="tab-card"
								aria-controls="pay-card"
								aria-selected="false"
							>
								Card
							</button>
						</div>
					) : null}
					{acceptsSolana ? <CryptoPanel view={view} tokens={tokens} hidden={!open} /> : null}
					{acceptsCard ? <CardPanel amount={amount} hidden={!open || both} /> : null}
					<section id="account" aria-label="Your account" hidden>
						<button id="sign-in" type="button" class="secondary">
							Sign in with wallet
						</button>
						<div id="account-details" hidden>
							<p>
								Signed in as <span id="account-address" class="addr" />
							</p>
							<h2>Your wallets</h2>
							<ul id="saved-wallets" />
							<h2>Your payments here</h2>
							<ul id="past-payments" />
							<button id="sign-out" type="button" class="secondary">
								Sign out
							</button>
						</div>
					</section>
					<footer>
						{open ? (
							<p>
								Pay before{" "}
								<time datetime={new Date(payment.expires_at * 1000).toISOString()}>
									{new Date(payment.expires_at * 1000).toUTCString()}
								</time>
								.
							</p>
						) : null}
						{payment.cancel_url && open ? (
							<p>
								<a href={payment.cancel_url} rel="noopener">
									Cancel and return to {merchantName}
								</a>
							</p>
						) : null}
						{!payment.livemode ? <p>Test mode: no real money moves.</p> : null}
					</footer>
				</main>
			</Page>,
		);
	});
}

/** Stripe's Payment Element mounts here: card data goes from the payer's browser to Stripe only. */
function CardPanel(props: { amount: string; hidden: boolean }) {
	return (
		<section id="pay-card" role="tabpanel" aria-labelledby="card-heading" hidden={props.hidden}>
			<h2 id="card-heading" class="visually-hidden">
				Pay by card
			</h2>
			<div id="card-element" />
			<button id="pay-card-button" type="button" disabled>
				Pay {props.amount}
			</button>
			<div id="card-error" role="alert" hidden />
		</section>
	);
}

function CryptoPanel(props: {
	view: CheckoutView;
	tokens: { symbol: string; decimals: number }[];
	hidden: boolean;
}) {
	const s = props.view.solana;
	const current = s?.token ?? props.tokens[0]?.symbol;
	const expiry = s?.quote_expires_at ?? 0;
	return (
		<section id="pay-crypto" role="tabpanel" aria-labelledby="crypto-heading" hidden={props.hidden}>
			<h2 id="crypto-heading" class="visually-hidden">
				Pay with crypto
			</h2>
			<label for="token">Pay with</label>
			<select id="token" name="token">
				{props.tokens.map((t) => (
					<option value={t.symbol} selected={t.symbol === current}>
						{t.symbol}
					</option>
				))}
			</select>
			<dl class="quote">
				<dt>Amount</dt>
				<dd id="token-amount">
					{s ? `${formatTokenAmount(s.amount, s.decimals)} ${s.token}` : "…"}
				</dd>
				<dt>Rate</dt>
				<dd id="rate">
					{s ? `1 ${s.token} = ${s.rate} ${props.view.currency.toUpperCase()}` : "…"}
				</dd>
				<dt>Gateway fee (added to the price, in the amount)</dt>
				<dd id="fee">{s ? `${formatTokenAmount(s.fee, s.decimals)} ${s.token}` : "…"}</dd>
				<dt>Price held for</dt>
				<dd>
					<span id="quote-expiry" data-expires-at={String(expiry)}>
						{s ? formatCountdown(expiry - Math.floor(Date.now() / 1000)) : "…"}
					</span>
				</dd>
			</dl>
			<button id="pay-wallet" type="button" disabled>
				Pay with Phantom
			</button>
			<p id="wallet-hint" class="hint" aria-live="polite">
				Looking for a Solana wallet in this browser…
			</p>
			<div id="wallet-error" role="alert" hidden />
			<h2 class="center">Or scan with a mobile wallet</h2>
			<div id="qr" data-url={s?.solana_pay_url ?? ""}>
				{s ? raw(qrSvg(s.solana_pay_url, "Solana Pay QR code")) : null}
			</div>
			<p class="center">
				<a id="open-in-wallet" href={s?.solana_pay_url ?? "#"}>
					Open in wallet
				</a>
			</p>
		</section>
	);
}

function Page(props: { title: string; bootstrap?: CheckoutBootstrap; children: unknown }) {
	// Standards mode: without a doctype, browsers lay the page out in quirks mode.
	return (
		<>
			{raw("<!DOCTYPE html>")}
			<html lang="en">
				<head>
					<meta charset="utf-8" />
					<meta name="viewport" content="width=device-width, initial-scale=1" />
					<meta name="robots" content="noindex" />
					<title>{props.title}</title>
					<link rel="icon" href="/favicon.svg" />
					<link rel="stylesheet" href={CSS_PATH} />
					{props.bootstrap ? (
						<script type="application/json" id="checkout-data">
							{raw(jsonForScript(props.bootstrap))}
						</script>
					) : null}
					{props.bootstrap ? <script src={SCRIPT_PATH} defer /> : null}
				</head>
				<body>{props.children as never}</body>
			</html>
		</>
	);
}
