import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { getConfig } from "../config";
import { checkoutView } from "../domain/checkout";
import { fill, formatFiat } from "../domain/checkout-format";
import { isId } from "../domain/ids";
import type { PaymentRecord } from "../domain/payment";
import { isTerminal, PAYMENT_STATUSES } from "../domain/payment-state";
import { signCheckoutToken } from "../lib/checkout-token";
import { ApiError, notFound } from "../lib/errors";
import { stripeConfigured } from "../processors/stripe/client";
import { openCardIntent } from "../services/cards";
import { getMerchant } from "../services/merchants";
import { paymentStub, requestCountry } from "../services/payments";
import { solanaQuotePolicy } from "../services/solana-quote";
import type { App, AppEnv } from "../types";
import { type Messages, negotiateLocale } from "./i18n";
import {
	type CheckoutBootstrap,
	CheckoutPage,
	isMobile,
	registerCheckoutAssets,
	setCheckoutSecurityHeaders,
	stripeJsUrl,
} from "./page";
import {
	CardPanel,
	CryptoPanel,
	type ExplorerTarget,
	LocalTime,
	Receipt,
	Sentence,
} from "./panels";
import { qrSvg } from "./qr";
import { SESSION_COOKIE } from "./session";

/** Solana cluster → the Wallet Standard chain id wallets expect. */
const CHAINS: Record<string, string> = {
	"mainnet-beta": "solana:mainnet",
	devnet: "solana:devnet",
	testnet: "solana:testnet",
	localnet: "solana:localnet",
};

async function openPayment(c: Context<AppEnv>, id: string): Promise<PaymentRecord | null> {
	return isId("payment", id) ? paymentStub(c.env, id).get() : null;
}

/**
 * The payer's checkout, authorised by the payment's unguessable id alone. The page shows only
 * what the payer needs; its script gets a checkout token that can re-quote this payment and
 * nothing else, and follows the payment's status over a WebSocket (polling as a fallback).
 */
export function registerCheckout(app: App): void {
	registerCheckoutAssets(app);

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
		setCheckoutSecurityHeaders(c, acceptsCard);
		// The payer's language: the page's words, and how amounts and dates are written.
		const loc = negotiateLocale(c.req.header("Accept-Language"));
		const t = loc.messages;
		c.header("Content-Language", loc.language);
		c.header("Vary", "Accept-Language, User-Agent, Sec-CH-UA-Mobile");
		const mobile = isMobile(c);
		if (!payment) {
			c.status(404);
			return c.html(
				<CheckoutPage title={t.not_found_title} loc={loc} mobile={mobile}>
					<main id="checkout" data-status="not_found">
						<h1>{t.not_found_title}</h1>
						<p>{t.not_found_body}</p>
					</main>
				</CheckoutPage>,
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
			chain: CHAINS[getConfig(c.env).SOLANA_CLUSTER] ?? "solana:mainnet",
			tokens,
			default_token: payment.solana?.token ?? tokens[0]?.symbol ?? null,
			status_text: statusText(t),
			messages: t,
			locale: loc.locale,
			explorer: explorerTarget(c.env),
			payer_session: getCookie(c, SESSION_COOKIE) !== undefined,
		};
		const merchantName = merchant?.name ?? "StreamPayments";
		const amount = formatFiat(loc.locale, payment.amount, payment.currency);
		const acceptsSolana = payment.payment_method_types.includes("solana");
		const both = acceptsSolana && acceptsCard;
		return c.html(
			<CheckoutPage
				title={fill(t.page_title, { merchant: merchantName })}
				bootstrap={bootstrap}
				loc={loc}
				mobile={mobile}
			>
				<main id="checkout" data-status={payment.status} data-payment={payment.id}>
					<p class="merchant">
						{merchantName}
						{!payment.livemode ? <span class="test">{t.test_mode}</span> : null}
					</p>
					<h1 id="amount">{amount}</h1>
					{payment.description ? <p class="description">{payment.description}</p> : null}
					<p id="status" role="status" aria-live="polite">
						{bootstrap.status_text[payment.status]}
					</p>
					{both && open ? (
						<div role="tablist" aria-label={t.payment_method} class="tabs">
							<button
								type="button"
								role="tab"
								id="tab-crypto"
								aria-controls="pay-crypto"
								aria-selected="true"
							>
								{t.tab_crypto}
							</button>
							<button
								type="button"
								role="tab"
								id="tab-card"
								aria-controls="pay-card"
								aria-selected="false"
							>
								{t.tab_card}
							</button>
						</div>
					) : null}
					{acceptsSolana ? (
						<CryptoPanel
							view={view}
							tokens={tokens}
							hidden={!open}
							checkoutUrl={payment.checkout_url}
							loc={loc}
						/>
					) : null}
					{acceptsCard ? (
						<CardPanel amount={amount} hidden={!open || both} livemode={payment.livemode} t={t} />
					) : null}
					<Receipt view={view} loc={loc} explorer={bootstrap.explorer} />
					<section id="account" aria-label={t.account} hidden>
						<button id="sign-in" type="button" class="secondary">
							{t.sign_in}
						</button>
						<div id="account-details" hidden>
							<p>
								{t.signed_in_as} <span id="account-address" class="addr" />
							</p>
							<h2>{t.your_wallets}</h2>
							<ul id="saved-wallets" />
							<h2>{t.your_payments}</h2>
							<ul id="past-payments" />
							<button id="sign-out" type="button" class="secondary">
								{t.sign_out}
							</button>
						</div>
					</section>
					<footer>
						{open ? (
							<p>
								<Sentence template={t.pay_before} slot="time">
									<LocalTime unix={payment.expires_at} locale={loc.locale} />
								</Sentence>
							</p>
						) : null}
						{payment.cancel_url && open ? (
							<p>
								<a href={payment.cancel_url} rel="noopener">
									{fill(t.cancel_return, { merchant: merchantName })}
								</a>
							</p>
						) : null}
						{!payment.livemode ? <p>{t.test_mode_footer}</p> : null}
					</footer>
				</main>
			</CheckoutPage>,
		);
	});
}

/** The payer-facing word for every status, in the page's language. */
function statusText(t: Messages): Record<string, string> {
	return Object.fromEntries(PAYMENT_STATUSES.map((s) => [s, t[`status_${s}`]]));
}

function explorerTarget(env: AppEnv["Bindings"]): ExplorerTarget {
	const config = getConfig(env);
	const cluster = config.SOLANA_CLUSTER;
	const rpc = config.SOLANA_RPC_URLS[0] ?? "";
	return { cluster, rpc_url: cluster === "localnet" ? rpc : "" };
}
