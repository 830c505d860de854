// `sign_in_nonces`: the open Sign In With Solana challenges of checkout pages.

/** How many challenges of this payment are still open. */
export async function openSignInChallenges(
	db: D1Database,
	paymentId: string,
	now: number,
): Promise<number> {
	const open = await db
		.prepare("SELECT COUNT(*) AS n FROM sign_in_nonces WHERE payment_id = ? AND expires_at > ?")
		.bind(paymentId, now)
		.first<{ n: number }>();
	return open?.n ?? 0;
}

/** Stores a challenge, deleting expired ones on the way (one batch). */
export async function insertSignInNonce(
	db: D1Database,
	nonce: {
		nonce: string;
		paymentId: string;
		merchantId: string;
		livemode: boolean;
		address: string;
		issuedAt: number;
		expiresAt: number;
	},
): Promise<void> {
	await db.batch([
		db
			.prepare(
				`INSERT INTO sign_in_nonces (nonce, payment_id, merchant_id, livemode, address, issued_at, expires_at)
					 VALUES (?, ?, ?, ?, ?, ?, ?)`,
			)
			.bind(
				nonce.nonce,
				nonce.paymentId,
				nonce.merchantId,
				nonce.livemode ? 1 : 0,
				nonce.address,
				nonce.issuedAt,
				nonce.expiresAt,
			),
		// Housekeeping on the way: unused challenges past their expiry are worthless.
		db.prepare("DELETE FROM sign_in_nonces WHERE expires_at < ?").bind(nonce.issuedAt),
	]);
}

/**
 * Consumes the challenge in one statement: true only for an unexpired nonce issued to this
 * address at this merchant and mode, and only once.
 */
export async function consumeSignInNonce(
	db: D1Database,
	nonce: { nonce: string; merchantId: string; livemode: boolean; address: string },
	now: number,
): Promise<boolean> {
	const consumed = await db
		.prepare(
			`DELETE FROM sign_in_nonces WHERE nonce = ? AND merchant_id = ? AND livemode = ?
			 AND address = ? AND expires_at > ? RETURNING nonce`,
		)
		.bind(nonce.nonce, nonce.merchantId, nonce.livemode ? 1 : 0, nonce.address, now)
		.first();
	return Boolean(consumed);
}
