/**
 * The message a wallet signs to prove it may receive a merchant's payouts. The gateway issues
 * the exact text (stored with its nonce) and later compares the signed bytes with it, so the
 * parser here only needs to find the nonce; every other field is checked against the stored
 * challenge, whose columns are the source of truth. No I/O.
 */

export const PAYOUT_DESTINATION_PURPOSE = "add payout destination";

export interface PayoutProofFields {
	domain: string;
	merchantId: string;
	merchantName: string;
	livemode: boolean;
	address: string;
	nonce: string;
	issuedAt: number;
	expiresAt: number;
}

/** The text the wallet shows and signs: one field per line, nothing a merchant name can break. */
export function payoutProofMessage(fields: PayoutProofFields): string {
	const name = fields.merchantName.replace(/\s+/g, " ").trim().slice(0, 100);
	return [
		`${fields.domain} asks this wallet to receive payouts:`,
		fields.address,
		"",
		`Sign to add this wallet as a payout destination of ${name || "your merchant account"}. This sends no transaction and costs nothing.`,
		"",
		`Purpose: ${PAYOUT_DESTINATION_PURPOSE}`,
		`Merchant: ${fields.merchantId}`,
		`Mode: ${fields.livemode ? "live" : "test"}`,
		`Nonce: ${fields.nonce}`,
		`Issued At: ${new Date(fields.issuedAt * 1000).toISOString()}`,
		`Expiration Time: ${new Date(fields.expiresAt * 1000).toISOString()}`,
	].join("\n");
}

/** The nonce a proof message names, or null when it names none (or names several). */
export function nonceOfProofMessage(message: string): string | null {
	const nonces = message.split("\n").filter((line) => line.startsWith("Nonce: "));
	if (nonces.length !== 1) return null;
	const nonce = (nonces[0] as string).slice("Nonce: ".length);
	return /^[A-Za-z0-9]{16,64}$/.test(nonce) ? nonce : null;
}
