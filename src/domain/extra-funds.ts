import type { PaymentRecord } from "./payment";
import { paidWith } from "./payment";
import type { PaymentMethodType } from "./payment-method";

/**
 * Funds by the method that did not pay a payment's price go back to their payer by that method
 * on their own (unless the merchant holds them). A stranger can send crypto naming any payment,
 * and every on-chain refund costs the merchant a network fee (and perhaps a token account's
 * rent), so crypto is sent back on its own only while it is worth it and a few times per
 * payment: a sender owed less than a hundredth of the quoted amount, or anything past the third
 * automatic refund, is held for the merchant to decide.
 */
export const MAX_AUTOMATIC_CRYPTO_REFUNDS = 3;

export function extraFundsMethod(p: PaymentRecord): PaymentMethodType | null {
	const paid = paidWith(p);
	return paid === "solana" ? "card" : paid === "card" ? "solana" : null;
}

/** Base units a sender's extra crypto must reach to go back on its own: 1% of the quote. */
export function automaticRefundMinimum(p: PaymentRecord): bigint {
	const quoted = BigInt(p.solana?.amount ?? "0");
	const minimum = (quoted + 99n) / 100n;
	return minimum > 0n ? minimum : 1n;
}
