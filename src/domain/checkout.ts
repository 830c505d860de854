import { type PaymentRecord, paidWith } from "./payment";
import type { PaymentStatus } from "./payment-state";

/**
 * What the payer's page may know about a payment: amounts, status and how to pay. Never the
 * merchant's metadata, ids or anything internal; this is served to whoever holds the link.
 */
export interface CheckoutView {
	id: string;
	status: PaymentStatus;
	livemode: boolean;
	amount: number;
	currency: string;
	description: string | null;
	expires_at: number;
	/** When the payment succeeded (Unix seconds), for the receipt; null until it has. */
	succeeded_at: number | null;
	success_url: string | null;
	cancel_url: string | null;
	payment_method_types: string[];
	/**
	 * The method completing the payment while it confirms (crypto awaiting finality, a card in
	 * flight): the page stops offering the other one. Null while either may pay.
	 */
	paying_with: "card" | "solana" | null;
	solana: {
		token: string;
		decimals: number;
		/** Base units to pay, fee included. */
		amount: string;
		fee: string;
		rate: string;
		quote_expires_at: number;
		/** The settlement address the transfer request pays (what a payer may copy). */
		recipient: string;
		solana_pay_url: string;
		transaction_request_url: string;
		reference: string;
		amount_received: string;
		signature: string | null;
	} | null;
}

export function checkoutView(payment: PaymentRecord): CheckoutView {
	const s = payment.solana;
	return {
		id: payment.id,
		status: payment.status,
		livemode: payment.livemode,
		amount: payment.amount,
		currency: payment.currency,
		description: payment.description,
		expires_at: payment.expires_at,
		succeeded_at: payment.succeeded_at,
		// Like Stripe's {CHECKOUT_SESSION_ID}: the merchant's page learns which payment came back.
		success_url: payment.success_url?.replaceAll("{PAYMENT_ID}", payment.id) ?? null,
		cancel_url: payment.cancel_url,
		payment_method_types: payment.payment_method_types,
		paying_with: payingWith(payment),
		solana: s
			? {
					token: s.token,
					decimals: s.decimals,
					amount: s.amount,
					fee: s.quote.fee,
					rate: s.quote.rate,
					quote_expires_at: s.quote.expires_at,
					recipient: s.recipient,
					solana_pay_url: s.solana_pay_url,
					transaction_request_url: s.transaction_request_url,
					reference: s.reference,
					amount_received: s.amount_received,
					signature: s.signature,
				}
			: null,
	};
}

/** Which method is completing (or completed) the payment, for the page to offer only that one. */
export function payingWith(payment: PaymentRecord): "card" | "solana" | null {
	const paid = paidWith(payment);
	if (paid) return paid;
	if (payment.status !== "processing") return null;
	return payment.card?.intent_status === "processing" ? "card" : "solana";
}

/** Base units as a decimal string with the token's decimals, trailing zeros trimmed. */
export function formatTokenAmount(baseUnits: string, decimals: number): string {
	const negative = baseUnits.startsWith("-");
	const digits = (negative ? baseUnits.slice(1) : baseUnits).padStart(decimals + 1, "0");
	const whole = digits.slice(0, digits.length - decimals);
	const fraction = digits.slice(digits.length - decimals).replace(/0+$/, "");
	return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

/** What went wrong in a wallet, as far as a payer can act on it. */
export type WalletErrorKind = "declined" | "funds" | "expired" | "unauthorized" | "other";

/**
 * Sorts a wallet's error. Wallets differ (Phantom uses EIP-1193-style codes, others only
 * messages), so both are looked at.
 */
export function walletErrorKind(error: unknown): { kind: WalletErrorKind; message: string } {
	const code = (error as { code?: unknown } | null)?.code;
	const message = error instanceof Error ? error.message : String(error ?? "");
	if (code === 4001 || /reject|declin|denied|cancel/i.test(message))
		return { kind: "declined", message };
	if (/insufficient|not enough|0x1\b|debit an account/i.test(message))
		return { kind: "funds", message };
	if (/blockhash|expired/i.test(message)) return { kind: "expired", message };
	if (code === 4100 || /unauthori[sz]ed/i.test(message)) return { kind: "unauthorized", message };
	return { kind: "other", message };
}

/** Seconds left as m:ss (or h:mm:ss), never negative. */
export function formatCountdown(seconds: number): string {
	const s = Math.max(0, Math.floor(seconds));
	const pad = (n: number) => String(n).padStart(2, "0");
	const h = Math.floor(s / 3600);
	const m = Math.floor((s % 3600) / 60);
	return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}
