import { raw } from "hono/html";
import type { CheckoutView } from "../domain/checkout";
import { formatCountdown, formatTokenAmount } from "../domain/checkout";
import {
	explorerTxUrl,
	fill,
	formatDateTime,
	formatFiat,
	formatRate,
	formatToken,
	walletBrowseLinks,
} from "../domain/checkout-format";
import type { CheckoutLocale, Messages } from "./i18n";
import { qrSvg } from "./qr";

// The checkout's panels as the server renders them. The page's script (src/client/checkout.ts)
// updates the same elements by id, so a page without script still shows how to pay.

/** Where the receipt's explorer link points: the cluster, and the RPC of a local one. */
export interface ExplorerTarget {
	cluster: string;
	/** Only for localnet (the explorer's customUrl); a real cluster's RPC URL may hold a key. */
	rpc_url: string;
}

/** A time in UTC with its zone named; the script rewrites it in the payer's own time zone. */
export function LocalTime(props: { unix: number; locale: string; id?: string }) {
	return (
		<time
			id={props.id}
			datetime={new Date(props.unix * 1000).toISOString()}
			data-unix={String(props.unix)}
		>
			{formatDateTime(props.locale, props.unix, true)}
		</time>
	);
}

/** "Pay before {time}." with the time element where the language puts it. */
export function Sentence(props: { template: string; slot: string; children: unknown }) {
	const [before = "", after = ""] = props.template.split(`{${props.slot}}`);
	return (
		<>
			{before}
			{props.children as never}
			{after}
		</>
	);
}

/** Stripe's Payment Element mounts here: card data goes from the payer's browser to Stripe only. */
export function CardPanel(props: {
	amount: string;
	hidden: boolean;
	livemode: boolean;
	t: Messages;
}) {
	const { t } = props;
	return (
		<section id="pay-card" role="tabpanel" aria-labelledby="card-heading" hidden={props.hidden}>
			<h2 id="card-heading" class="visually-hidden">
				{t.pay_by_card}
			</h2>
			{props.livemode ? null : (
				<p id="test-card-hint" class="hint test-hint">
					{t.test_card_hint}
				</p>
			)}
			<div id="card-element" />
			<button id="pay-card-button" type="button" disabled>
				{fill(t.pay_amount, { amount: props.amount })}
			</button>
			<div id="card-error" role="alert" hidden />
		</section>
	);
}

export function CryptoPanel(props: {
	view: CheckoutView;
	tokens: { symbol: string; decimals: number }[];
	hidden: boolean;
	checkoutUrl: string;
	loc: CheckoutLocale;
}) {
	const { view, loc } = props;
	const t = loc.messages;
	const s = view.solana;
	const current = s?.token ?? props.tokens[0]?.symbol;
	const expiry = s?.quote_expires_at ?? 0;
	const links = walletBrowseLinks(props.checkoutUrl);
	return (
		<section id="pay-crypto" role="tabpanel" aria-labelledby="crypto-heading" hidden={props.hidden}>
			<h2 id="crypto-heading" class="visually-hidden">
				{t.pay_with_crypto}
			</h2>
			<label for="token">{t.token_label}</label>
			<select id="token" name="token">
				{props.tokens.map((tk) => (
					<option value={tk.symbol} selected={tk.symbol === current}>
						{tk.symbol}
					</option>
				))}
			</select>
			<dl class="quote">
				<dt>{t.amount}</dt>
				<dd>
					<span id="token-amount">
						{s ? formatToken(loc.locale, s.amount, s.decimals, s.token) : "…"}
					</span>
					<CopyButton
						what="amount"
						value={s ? formatTokenAmount(s.amount, s.decimals) : ""}
						label={t.copy_amount}
						t={t}
					/>
				</dd>
				<dt>{t.rate}</dt>
				<dd id="rate">
					{s ? `1 ${s.token} = ${formatRate(loc.locale, s.rate, view.currency)}` : "…"}
				</dd>
				<dt>{t.fee}</dt>
				<dd id="fee">{s ? formatToken(loc.locale, s.fee, s.decimals, s.token) : "…"}</dd>
				<dt>{t.price_held}</dt>
				<dd>
					<span id="quote-expiry" data-expires-at={String(expiry)}>
						{s ? formatCountdown(expiry - Math.floor(Date.now() / 1000)) : "…"}
					</span>
				</dd>
				<dt>{t.recipient}</dt>
				<dd class="recipient">
					<span id="recipient" class="addr">
						{s?.recipient ?? "…"}
					</span>
					<CopyButton what="address" value={s?.recipient ?? ""} label={t.copy_address} t={t} />
				</dd>
			</dl>
			{/* Funds are matched to a payment by the reference its transfer request carries. */}
			<p id="recipient-note" class="hint">
				{t.recipient_note}
			</p>
			{/* Shown by the script once a wallet is found: never a button that cannot be pressed. */}
			<button id="pay-wallet" type="button" hidden>
				{fill(t.pay_with_wallet, { wallet: "Phantom" })}
			</button>
			<p id="wallet-hint" class="hint" aria-live="polite">
				{t.looking_for_wallet}
			</p>
			<div id="wallet-error" role="alert" hidden />
			{/* On a phone without a wallet: open this page inside the wallet's own browser. */}
			<div id="open-in" class="open-in">
				<a id="open-phantom" class="button" href={links.phantom} rel="noopener">
					{t.open_in_phantom}
				</a>
				<a id="open-solflare" class="button" href={links.solflare} rel="noopener">
					{t.open_in_solflare}
				</a>
			</div>
			<p class="center">
				<a id="open-in-wallet" href={s?.solana_pay_url ?? "#"}>
					{t.open_in_wallet}
				</a>
			</p>
			<p id="install-wallet" class="center install" hidden>
				<a href="https://phantom.app/download" rel="noopener">
					{t.get_phantom}
				</a>
				<a href="https://solflare.com/download" rel="noopener">
					{t.get_solflare}
				</a>
			</p>
			<h2 class="center">{t.scan_heading}</h2>
			<div id="qr" data-url={s?.solana_pay_url ?? ""}>
				{s ? raw(qrSvg(s.solana_pay_url, t.qr_label)) : null}
			</div>
		</section>
	);
}

/** The copy buttons need the script (the Clipboard API): hidden until it shows them. */
function CopyButton(props: { what: string; value: string; label: string; t: Messages }) {
	return (
		<button
			type="button"
			class="copy"
			id={`copy-${props.what}`}
			data-copy={props.value}
			aria-label={props.label}
			hidden
		>
			{props.t.copy}
		</button>
	);
}

/** What the payer keeps once paid: amount, what paid it, the transaction and when. */
export function Receipt(props: {
	view: CheckoutView;
	loc: CheckoutLocale;
	explorer: ExplorerTarget;
}) {
	const { view, loc, explorer } = props;
	const t = loc.messages;
	const paid = view.status === "succeeded" || view.status === "requires_capture";
	const s = view.solana;
	const crypto = view.paying_with === "solana" && s;
	const received = s && s.amount_received !== "0" ? s.amount_received : s?.amount;
	const signature = crypto ? s.signature : null;
	return (
		<section id="receipt" aria-labelledby="receipt-heading" hidden={!paid}>
			<h2 id="receipt-heading">{t.receipt}</h2>
			<dl class="quote">
				<dt>{t.receipt_amount}</dt>
				<dd id="receipt-amount">{formatFiat(loc.locale, view.amount, view.currency)}</dd>
				<dt>{t.receipt_paid_with}</dt>
				<dd id="receipt-token">
					{crypto && received ? formatToken(loc.locale, received, s.decimals, s.token) : t.card}
				</dd>
				<dt hidden={!signature}>{t.receipt_transaction}</dt>
				<dd hidden={!signature}>
					<a
						id="receipt-signature"
						class="addr"
						href={signature ? explorerTxUrl(signature, explorer.cluster, explorer.rpc_url) : "#"}
						rel="noopener"
						title={t.explorer_link}
					>
						{signature ?? ""}
					</a>
				</dd>
				<dt hidden={!view.succeeded_at}>{t.receipt_time}</dt>
				<dd hidden={!view.succeeded_at}>
					{view.succeeded_at ? (
						<LocalTime id="receipt-time" unix={view.succeeded_at} locale={loc.locale} />
					) : (
						<time id="receipt-time" />
					)}
				</dd>
			</dl>
		</section>
	);
}
