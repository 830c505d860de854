import { isId, newId } from "../domain/ids";
import type { MerchantSettings } from "../domain/merchant-settings";
import { EXPIRES_IN, type PaymentRecord, type TransitionResult } from "../domain/payment";
import type { PaymentMethodType } from "../domain/payment-method";
import type { RiskAssessment } from "../domain/risk";
import type { CardSettings } from "../domain/routing";
import type { Env } from "../env";
import { ApiError, notFound } from "../lib/errors";
import type { AuthContext } from "../types";
import { customerExists, getCustomer } from "./customers";
import { getMerchant } from "./merchants";
import { assessPayment, cachedRiskRules } from "./risk";
import { decideRouting } from "./routing";
import { quoteSolanaPayment } from "./solana-quote";

export function paymentStub(env: Env, paymentId: string) {
	return env.PAYMENTS.get(env.PAYMENTS.idFromName(paymentId));
}

/**
 * Loads a payment the caller may see. Another merchant's payment, or one of the other mode, is
 * reported exactly like an unknown id: existence is never revealed.
 */
export async function loadPayment(
	env: Env,
	auth: AuthContext,
	paymentId: string,
): Promise<PaymentRecord> {
	if (!isId("payment", paymentId)) throw notFound("payment", paymentId);
	const payment = await paymentStub(env, paymentId).get();
	if (!payment || payment.merchant_id !== auth.merchantId || payment.livemode !== auth.livemode) {
		throw notFound("payment", paymentId);
	}
	return payment;
}

/** Turns a PaymentObject transition result into the payment or the house error. */
export function unwrapTransition(result: TransitionResult, paymentId: string): PaymentRecord {
	if (result.ok) return result.payment;
	if (result.error === "not_found") throw notFound("payment", paymentId);
	throw new ApiError("payment_unexpected_state", result.message);
}

/** What a new payment is made of: the validated body of `POST /v1/payments`. */
export interface NewPaymentParams {
	amount: number;
	currency: string;
	payment_method_types: PaymentMethodType[];
	description?: string;
	metadata: Record<string, string>;
	success_url?: string;
	cancel_url?: string;
	expires_in?: number;
	solana?: { token: string };
	/** A customer of the same merchant and mode (`cus_…`). */
	customer?: string;
	/** Cards: capture at once (default) or authorise now and capture later. */
	capture_method?: "automatic" | "manual";
}

/**
 * Creates a payment for a merchant in one mode: quotes the token when one is named, then lets
 * the payment's own object commit it. Shared by the API and payment links.
 */
export async function createPaymentFor(
	env: Env,
	owner: Pick<AuthContext, "merchantId" | "livemode">,
	params: NewPaymentParams,
	context: { country?: string | null; ip?: string | null } = {},
): Promise<PaymentRecord> {
	const now = Date.now();
	const id = newId("payment", now);
	const created = Math.floor(now / 1000);
	const expiresAt = created + (params.expires_in ?? EXPIRES_IN.default);
	const riskRules = await cachedRiskRules(env.DB, owner);
	// The customer's email matters only to email rules: otherwise an existence check is enough.
	const emailRules = riskRules.rules.some(
		(r) => ("field" in r && r.field === "email") || ("key" in r && r.key === "email"),
	);
	let email: string | null = null;
	if (params.customer !== undefined) {
		const found = emailRules
			? await getCustomer(env, owner, params.customer)
			: (await customerExists(env, owner, params.customer)) || null;
		if (!found) {
			throw new ApiError(
				"parameter_invalid",
				`No such customer: '${params.customer}'.`,
				"customer",
			);
		}
		if (typeof found === "object") email = found.email;
	}
	// Fraud rules first (one call to the merchant's counters, only with velocity rules): a block
	// refuses the payment, and the decision goes on to routing.
	const risk: RiskAssessment = await assessPayment(
		env,
		owner,
		id,
		{
			amount: params.amount,
			currency: params.currency,
			customer: params.customer ?? null,
			email,
			ip: context.ip ?? null,
			country: context.country ?? null,
			wallet: null,
			card_fingerprint: null,
		},
		riskRules,
	);
	if (risk.decision === "block") {
		throw new ApiError(
			"payment_blocked",
			`This payment was blocked by the merchant's risk rules: ${risk.reasons.map((r) => `${r.rule} (${r.detail})`).join("; ")}.`,
		);
	}
	// The merchant's routing rules pick the processor and may set its settings (cached per isolate).
	const routing = await decideRouting(env, {
		merchantId: owner.merchantId,
		livemode: owner.livemode,
		amount: params.amount,
		currency: params.currency,
		methods: params.payment_method_types,
		country: context.country ?? null,
		risk: risk.decision,
	});
	const cardSettings = routing.processor === "stripe" ? (routing.settings as CardSettings) : {};
	let solana = null;
	if (params.solana) {
		if (!params.payment_method_types.includes("solana")) {
			throw new ApiError(
				"parameter_invalid",
				"solana needs 'solana' in payment_method_types.",
				"solana",
			);
		}
		const found = await getMerchant(env.DB, owner.merchantId);
		const merchant: { name: string; settings: MerchantSettings } = found ?? {
			name: "StreamPayments",
			settings: {},
		};
		// The same quoting as every re-quote: the routing decision's tokens and commitment bind it.
		solana = await quoteSolanaPayment(
			env,
			{
				id,
				amount: params.amount,
				currency: params.currency,
				expires_at: expiresAt,
				description: params.description ?? null,
				routing,
			},
			merchant,
			params.solana.token,
			"solana[token]",
		);
	}
	return paymentStub(env, id).create({
		id,
		merchant_id: owner.merchantId,
		livemode: owner.livemode,
		amount: params.amount,
		currency: params.currency,
		payment_method_types: params.payment_method_types,
		description: params.description ?? null,
		metadata: params.metadata,
		success_url: params.success_url ?? null,
		cancel_url: params.cancel_url ?? null,
		checkout_url: new URL(`/checkout/${id}`, env.PUBLIC_BASE_URL).toString(),
		expires_at: expiresAt,
		created,
		solana,
		customer: params.customer ?? null,
		capture_method: params.capture_method ?? cardSettings.capture_method ?? "automatic",
		routing,
		risk,
	});
}

/** The caller's IP address as Cloudflare's edge saw it; null when unknown (local tools). */
export function requestIp(request: Request): string | null {
	return request.headers.get("CF-Connecting-IP");
}

/** The payer's (or caller's) country as Cloudflare's edge saw it; null when unknown or local. */
export function requestCountry(request: Request): string | null {
	const country = (request.cf as { country?: unknown } | undefined)?.country;
	return typeof country === "string" &&
		/^[A-Z]{2}$/.test(country) &&
		country !== "XX" &&
		country !== "T1"
		? country
		: null;
}
