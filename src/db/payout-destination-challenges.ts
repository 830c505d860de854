// The one-time challenges a wallet signs to prove it may receive payouts. Consuming one is part of
// adding the destination, in src/db/payout-destinations.ts (addFromChallenge).

export interface ChallengeRow {
	nonce: string;
	merchant_id: string;
	livemode: number;
	address: string;
	message: string;
	expires: number;
	used: number | null;
	created: number;
}

export async function insertChallenge(db: D1Database, row: Omit<ChallengeRow, "used">) {
	await db
		.prepare(
			`INSERT INTO payout_destination_challenges (nonce, merchant_id, livemode, address, message, expires, created)
			 VALUES (?, ?, ?, ?, ?, ?, ?)`,
		)
		.bind(
			row.nonce,
			row.merchant_id,
			row.livemode,
			row.address,
			row.message,
			row.expires,
			row.created,
		)
		.run();
}

/** Challenges issued and still open for a merchant (a bound on what a caller can make us store). */
export async function openChallengeCount(
	db: D1Database,
	merchantId: string,
	now: number,
): Promise<number> {
	const row = await db
		.prepare(
			"SELECT COUNT(*) AS n FROM payout_destination_challenges WHERE merchant_id = ? AND used IS NULL AND expires > ?",
		)
		.bind(merchantId, now)
		.first<{ n: number }>();
	return row?.n ?? 0;
}

export async function getChallenge(db: D1Database, nonce: string): Promise<ChallengeRow | null> {
	return db
		.prepare("SELECT * FROM payout_destination_challenges WHERE nonce = ?")
		.bind(nonce)
		.first<ChallengeRow>();
}
