/**
 * One signature settles at most one payment: the first payment to claim a signature keeps it.
 * Answers whether `paymentId` holds the signature (a repeated claim by the same payment is true).
 */
export async function claimSignature(
	db: D1Database,
	signature: string,
	paymentId: string,
): Promise<boolean> {
	const row = await db
		.prepare(
			`INSERT INTO solana_signatures (signature, payment_id, created) VALUES (?1, ?2, ?3)
			 ON CONFLICT (signature) DO UPDATE SET signature = signature
			 RETURNING payment_id`,
		)
		.bind(signature, paymentId, Math.floor(Date.now() / 1000))
		.first<{ payment_id: string }>();
	return row?.payment_id === paymentId;
}
