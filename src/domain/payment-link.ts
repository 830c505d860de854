import type { PaymentMethodType } from "./payment-method";

/** A payment link as the gateway keeps it (the API object plus the owner). */
export interface PaymentLinkRecord {
	id: string;
	merchant_id: string;
	livemode: boolean;
	active: boolean;
	amount: number;
	currency: string;
	payment_method_types: PaymentMethodType[];
	description: string | null;
	metadata: Record<string, string>;
	success_url: string | null;
	cancel_url: string | null;
	expires_in: number | null;
	solana: { token: string } | null;
	created: number;
}

export interface PaymentLinkJson extends Omit<PaymentLinkRecord, "merchant_id"> {
	object: "payment_link";
	url: string;
}

/** The metadata key every payment created from a link carries, naming the link. */
export const PAYMENT_LINK_METADATA_KEY = "payment_link";

/**
 * A link holds at most this many metadata keys, so its payments (which add `payment_link`) stay
 * within the 50 keys any payment may carry.
 */
export const PAYMENT_LINK_MAX_METADATA_KEYS = 49;

/** The API representation; `url` is where payers go, under the gateway's public base URL. */
export function toApiPaymentLink(link: PaymentLinkRecord, publicBaseUrl: string): PaymentLinkJson {
	return {
		id: link.id,
		object: "payment_link",
		livemode: link.livemode,
		active: link.active,
		url: new URL(`/l/${link.id}`, publicBaseUrl).toString(),
		amount: link.amount,
		currency: link.currency,
		payment_method_types: link.payment_method_types,
		description: link.description,
		metadata: link.metadata,
		success_url: link.success_url,
		cancel_url: link.cancel_url,
		expires_in: link.expires_in,
		solana: link.solana,
		created: link.created,
	};
}

/**
 * What a visit to the link creates: a payment with the link's terms, whose metadata is the
 * link's plus `payment_link: <id>` (the link's id wins over a key of the same name).
 */
export function paymentParamsForLink(link: PaymentLinkRecord) {
	return {
		amount: link.amount,
		currency: link.currency,
		payment_method_types: link.payment_method_types,
		metadata: { ...link.metadata, [PAYMENT_LINK_METADATA_KEY]: link.id },
		...(link.description !== null ? { description: link.description } : {}),
		...(link.success_url !== null ? { success_url: link.success_url } : {}),
		...(link.cancel_url !== null ? { cancel_url: link.cancel_url } : {}),
		...(link.expires_in !== null ? { expires_in: link.expires_in } : {}),
		...(link.solana !== null ? { solana: { token: link.solana.token } } : {}),
	};
}
