/**
 * The checkout page's script: token choice and re-quotes, the quote countdown, paying with a
 * Wallet Standard wallet (Phantom first), sign-in with the wallet, and live status over a
 * WebSocket with polling as the fallback. The server renders everything first, so the page is
 * usable (QR code, open-in-wallet link) before or without this script.
 */
import type { SolanaSignAndSendTransactionFeature } from "@solana/wallet-standard-features";
import { getWallets } from "@wallet-standard/app";
import type { Wallet, WalletAccount } from "@wallet-standard/base";
import type { StandardConnectFeature } from "@wallet-standard/features";
import {
	type CheckoutView,
	formatCountdown,
	formatTokenAmount,
	walletErrorKind,
} from "../domain/checkout";
import { formatRate, formatToken } from "../domain/checkout-format";
import { setUpCard } from "./checkout-card";
import { $, data, setText, t } from "./checkout-dom";
import { base58, base64ToBytes } from "./checkout-http";
import { localTimes, renderReceipt, setCopy, setUpCopy } from "./checkout-receipt";
import { loadProfile, setSignInHost, setUpSignIn, signIn, signOut } from "./checkout-sign-in";

/** Nothing left for the payer to do (an authorised card waits only for the merchant). */
const TERMINAL = new Set(["succeeded", "requires_capture", "expired", "canceled", "failed"]);
const POLL_MS = 3000;
const REDIRECT_DELAY_MS = 1500;

let view = data.view;
let wallet: Wallet | null = null;
let account: WalletAccount | null = null;
let requoting = false;
let paying = false;
let redirecting = false;
let socket: WebSocket | null = null;
let pollTimer: number | undefined;
let socketFailures = 0;

// ── Rendering ───────────────────────────────────────────────────────────────────────────────

function render(next: CheckoutView): void {
	const previousReference = view.solana?.reference;
	// Updates can cross (socket vs. quote response): never step back to an older status.
	if (TERMINAL.has(view.status) && !TERMINAL.has(next.status)) return;
	view = next;
	const main = $("checkout");
	if (main) main.dataset.status = next.status;
	setText("status", data.status_text[next.status] ?? next.status);
	const open = !TERMINAL.has(next.status);
	if (!open) {
		for (const id of ["pay-crypto", "pay-card"]) {
			const panel = $(id);
			if (panel) panel.hidden = true;
		}
		const tabs = document.querySelector<HTMLElement>(".tabs");
		if (tabs) tabs.hidden = true;
	} else if (next.paying_with) {
		// One method is completing the payment: the other is no longer offered.
		const tabs = document.querySelector<HTMLElement>(".tabs");
		if (tabs) tabs.hidden = true;
		const other = next.paying_with === "solana" ? "pay-card" : "pay-crypto";
		const panel = $(other);
		if (panel) panel.hidden = true;
		const own = $(next.paying_with === "solana" ? "pay-crypto" : "pay-card");
		if (own) own.hidden = false;
	}
	const s = next.solana;
	if (s) {
		setText("token-amount", formatToken(data.locale, s.amount, s.decimals, s.token));
		setText("rate", `1 ${s.token} = ${formatRate(data.locale, s.rate, next.currency)}`);
		setText("fee", formatToken(data.locale, s.fee, s.decimals, s.token));
		setText("recipient", s.recipient);
		setCopy("copy-amount", formatTokenAmount(s.amount, s.decimals));
		setCopy("copy-address", s.recipient);
		const select = $<HTMLSelectElement>("token");
		if (select && select.value !== s.token && !requoting) select.value = s.token;
		const expiry = $("quote-expiry");
		if (expiry) expiry.dataset.expiresAt = String(s.quote_expires_at);
		const link = $<HTMLAnchorElement>("open-in-wallet");
		if (link) link.href = s.solana_pay_url;
		if (s.reference !== previousReference) void refreshQr(s.solana_pay_url);
	}
	tick();
	updatePayButton();
	if (next.status === "succeeded" || next.status === "requires_capture") {
		renderReceipt(next);
		onPaid();
	}
	if (!open) stopLive();
}

async function refreshQr(url: string): Promise<void> {
	const qr = $("qr");
	if (!qr) return;
	const response = await fetch(`/checkout/${view.id}/qr.svg`, { cache: "no-store" });
	if (!response.ok) return;
	const svg = await response.text();
	// Our own server's SVG (a rect and a path, no script); the data-url says what it encodes.
	if (view.solana?.solana_pay_url === url) {
		qr.innerHTML = svg;
		qr.dataset.url = url;
	}
}

function onPaid(): void {
	if (redirecting || !view.success_url) return;
	redirecting = true;
	setText("status", t("returning", { status: data.status_text.succeeded ?? "" }));
	const target = view.success_url;
	window.setTimeout(() => window.location.assign(target), REDIRECT_DELAY_MS);
}

function showError(message: string | null): void {
	const el = $("wallet-error");
	if (!el) return;
	el.textContent = message ?? "";
	el.hidden = !message;
}

// ── Quote countdown and re-quotes ───────────────────────────────────────────────────────────

function tick(): void {
	const el = $("quote-expiry");
	const expiresAt = Number(el?.dataset.expiresAt ?? 0);
	if (!el || !expiresAt) return;
	const left = expiresAt - Math.floor(Date.now() / 1000);
	setText("quote-expiry", formatCountdown(left));
	if (left <= 0 && view.status === "requires_payment" && !paying) {
		void requote(view.solana?.token ?? data.default_token);
	}
}

async function requote(token: string | null): Promise<void> {
	if (!token || requoting || view.status !== "requires_payment") return;
	requoting = true;
	updatePayButton();
	setText("token-amount", t("updating"));
	try {
		const response = await fetch(`/v1/payments/${view.id}/quote`, {
			method: "POST",
			headers: {
				Authorization: `Bearer ${data.checkout_token}`,
				"Content-Type": "application/json",
			},
			body: JSON.stringify({ token }),
		});
		const body = (await response.json()) as CheckoutView & { error?: { message: string } };
		if (!response.ok) {
			showError(body.error?.message ?? t("quote_failed"));
			await refreshStatus();
			return;
		}
		showError(null);
		requoting = false;
		render(body);
	} catch {
		showError(t("offline"));
	} finally {
		requoting = false;
		updatePayButton();
	}
}

// ── Wallets ─────────────────────────────────────────────────────────────────────────────────

type PayingWallet = Wallet & {
	features: StandardConnectFeature & SolanaSignAndSendTransactionFeature;
};

function canPay(w: Wallet): w is PayingWallet {
	return "standard:connect" in w.features && "solana:signAndSendTransaction" in w.features;
}

/** Phantom when present, else the first wallet that can sign and send on our chain (or any). */
function pickWallet(wallets: readonly Wallet[]): Wallet | null {
	const usable = wallets.filter(canPay);
	const onChain = usable.filter((w) => w.chains.includes(data.chain as `${string}:${string}`));
	const pool = onChain.length > 0 ? onChain : usable;
	return pool.find((w) => w.name === "Phantom") ?? pool[0] ?? null;
}

function watchWallets(): void {
	const registry = getWallets();
	let chosen = false;
	const choose = () => {
		const picked = pickWallet(registry.get());
		// The first look always says what it found, "no wallet" included.
		if (chosen && picked === wallet) return;
		chosen = true;
		wallet = picked;
		account = picked?.accounts[0] ?? null;
		const button = $("pay-wallet");
		// No wallet: no button at all (never one that cannot be pressed); the hint says what to do.
		if (button) {
			button.textContent = t("pay_with_wallet", { wallet: picked?.name ?? "Phantom" });
			button.hidden = !picked;
		}
		const main = $("checkout");
		if (main) main.dataset.wallet = picked ? "yes" : "no";
		const phone = isPhone();
		const install = $("install-wallet");
		if (install) install.hidden = !!picked || phone;
		setText(
			"wallet-hint",
			picked
				? t("wallet_found", { wallet: picked.name })
				: t(phone ? "no_wallet_phone" : "no_wallet_desktop"),
		);
		updatePayButton();
		setUpSignIn();
	};
	registry.on("register", choose);
	registry.on("unregister", choose);
	choose();
}

/** A phone (by the server's look at the user agent) or a phone-sized window. */
function isPhone(): boolean {
	return (
		document.documentElement.hasAttribute("data-mobile") ||
		window.matchMedia("(max-width: 40rem)").matches
	);
}

function describeWalletError(error: unknown): string {
	const { kind, message } = walletErrorKind(error);
	if (kind !== "other") return t(`wallet_${kind}`);
	return message ? t("wallet_other", { message }) : t("wallet_unknown");
}

function updatePayButton(): void {
	const button = $<HTMLButtonElement>("pay-wallet");
	if (!button) return;
	const quoteLive = (view.solana?.quote_expires_at ?? 0) > Math.floor(Date.now() / 1000);
	button.disabled =
		!wallet ||
		!view.solana ||
		!quoteLive ||
		requoting ||
		paying ||
		view.status !== "requires_payment";
}

async function connect(w: PayingWallet): Promise<WalletAccount> {
	if (account && w.accounts.includes(account)) return account;
	const { accounts } = await w.features["standard:connect"].connect();
	const first = accounts[0] ?? w.accounts[0];
	if (!first) throw new Error("The wallet shared no account.");
	account = first;
	return first;
}

async function pay(): Promise<void> {
	if (!wallet || !canPay(wallet) || !view.solana || paying) return;
	paying = true;
	showError(null);
	updatePayButton();
	try {
		const payer = await connect(wallet);
		setText("wallet-hint", t("preparing"));
		const response = await fetch(`/solana-pay/${view.id}`, {
			method: "POST",
			headers: { "Content-Type": "application/json" },
			body: JSON.stringify({ account: payer.address }),
		});
		const body = (await response.json()) as { transaction?: string; error?: { message: string } };
		if (!response.ok || !body.transaction) {
			throw new Error(
				body.error?.message ?? "The payment service could not build the transaction.",
			);
		}
		setText("wallet-hint", t("approve_in", { wallet: wallet.name }));
		const [sent] = await wallet.features["solana:signAndSendTransaction"].signAndSendTransaction({
			account: payer,
			chain: data.chain as `${string}:${string}`,
			transaction: base64ToBytes(body.transaction),
		});
		setText("wallet-hint", t("sent_confirming"));
		if (view.status === "requires_payment") setText("status", t("status_sent"));
		// The gateway checks the signature on chain itself; reporting it only hastens detection.
		if (sent?.signature) {
			void fetch(`/checkout/${view.id}/signature`, {
				method: "POST",
				headers: { "Content-Type": "application/json" },
				body: JSON.stringify({ signature: base58(sent.signature) }),
			}).catch(() => undefined);
		}
		void refreshStatus();
	} catch (error) {
		setText("wallet-hint", "");
		showError(describeWalletError(error));
	} finally {
		paying = false;
		updatePayButton();
	}
}

// ── Live status ─────────────────────────────────────────────────────────────────────────────

function openSocket(): void {
	if (TERMINAL.has(view.status) || socket) return;
	const url = new URL(`/checkout/${view.id}/ws`, window.location.href);
	url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
	let ws: WebSocket;
	try {
		ws = new WebSocket(url);
	} catch {
		startPolling();
		return;
	}
	socket = ws;
	const keepAlive = window.setInterval(() => {
		if (ws.readyState === WebSocket.OPEN) ws.send("ping");
	}, 30_000);
	ws.addEventListener("open", () => {
		socketFailures = 0;
		stopPolling();
	});
	ws.addEventListener("message", (event) => {
		if (typeof event.data !== "string" || event.data === "pong") return;
		try {
			render(JSON.parse(event.data) as CheckoutView);
		} catch {
			// Not a view: ignore.
		}
	});
	ws.addEventListener("close", () => {
		window.clearInterval(keepAlive);
		socket = null;
		if (TERMINAL.has(view.status)) return;
		// Fall back to polling at once, and try the socket again with backoff.
		socketFailures++;
		startPolling();
		window.setTimeout(openSocket, Math.min(30_000, 1000 * 2 ** socketFailures));
	});
}

function startPolling(): void {
	if (pollTimer !== undefined || TERMINAL.has(view.status)) return;
	pollTimer = window.setInterval(() => void refreshStatus(), POLL_MS);
}

function stopPolling(): void {
	if (pollTimer !== undefined) window.clearInterval(pollTimer);
	pollTimer = undefined;
}

function stopLive(): void {
	stopPolling();
	socket?.close(1000, "done");
	socket = null;
}

async function refreshStatus(): Promise<void> {
	try {
		const response = await fetch(`/checkout/${view.id}/status`, { cache: "no-store" });
		if (response.ok) render((await response.json()) as CheckoutView);
	} catch {
		// Offline for a moment: the next poll or the socket catches up.
	}
}

// ── Start ───────────────────────────────────────────────────────────────────────────────────

function start(): void {
	setSignInHost({
		view: () => view,
		wallet: () => wallet,
		canPay,
		// Sign-in asks canPay first, so the wallet is a paying one here.
		connect: (w) => connect(w as PayingWallet),
		showError,
		describeWalletError,
		requote,
	});
	$("pay-wallet")?.addEventListener("click", () => void pay());
	$("token")?.addEventListener("change", (event) => {
		void requote((event.target as HTMLSelectElement).value);
	});
	$("sign-in")?.addEventListener("click", () => void signIn());
	$("sign-out")?.addEventListener("click", () => void signOut());
	document.addEventListener("visibilitychange", () => {
		if (document.visibilityState === "visible") {
			if (socket?.readyState === WebSocket.OPEN) socket.send("status");
			else void refreshStatus();
		}
	});
	window.setInterval(tick, 1000);
	localTimes();
	setUpCopy();
	setUpCard(() => view, refreshStatus);
	watchWallets();
	render(view);
	if (!TERMINAL.has(view.status)) {
		openSocket();
		// No quote yet (created without a token) or an expired one: get a fresh price now.
		if (
			view.payment_method_types.includes("solana") &&
			(!view.solana || view.solana.quote_expires_at <= Math.floor(Date.now() / 1000))
		) {
			void requote(data.default_token);
		}
	}
	if (data.payer_session) void loadProfile();
}

start();
