import {
	judgeDestination,
	type PayoutDestinationRow,
	type PayoutDestinationType,
	type UsableDestination,
} from "../domain/payout-destination";

/** Payouts that still depend on their destination: it cannot be removed under them. */
const OPEN_PAYOUT_STATUSES = "('pending', 'in_transit')";

/**
 * The destination a payout of `type` goes to: the named one (`id`), else the merchant's default
 * of that type, else the only one of that type; or why it cannot take a payout now.
 */
export async function usableDestination(
	db: D1Database,
	input: { merchantId: string; livemode: boolean; type: PayoutDestinationType; id?: string },
	nowSeconds: number,
): Promise<UsableDestination> {
	if (input.id !== undefined) {
		const row = await getDestination(db, input.merchantId, input.livemode, input.id);
		if (!row) return { ok: false, reason: "not_found" };
		return judgeDestination(row, input.type, nowSeconds);
	}
	// Defaults first, then by age: at most a few rows per merchant, mode and type.
	const { results } = await db
		.prepare(
			`SELECT * FROM payout_destinations
			 WHERE merchant_id = ? AND livemode = ? AND type = ? AND status != 'removed'
			 ORDER BY is_default DESC, id ASC LIMIT 2`,
		)
		.bind(input.merchantId, input.livemode ? 1 : 0, input.type)
		.all<PayoutDestinationRow>();
	const [first, second] = results;
	if (!first) return { ok: false, reason: "none" };
	if (first.is_default === 1 || !second) return judgeDestination(first, input.type, nowSeconds);
	return { ok: false, reason: "none" };
}

export async function getDestination(
	db: D1Database,
	merchantId: string,
	livemode: boolean,
	id: string,
): Promise<PayoutDestinationRow | null> {
	return db
		.prepare("SELECT * FROM payout_destinations WHERE id = ? AND merchant_id = ? AND livemode = ?")
		.bind(id, merchantId, livemode ? 1 : 0)
		.first<PayoutDestinationRow>();
}

/** A merchant's destinations in one mode, newest first; removed ones only when asked. */
export async function listDestinations(
	db: D1Database,
	merchantId: string,
	livemode: boolean,
	options: { includeRemoved?: boolean; limit?: number } = {},
): Promise<PayoutDestinationRow[]> {
	const { results } = await db
		.prepare(
			`SELECT * FROM payout_destinations WHERE merchant_id = ? AND livemode = ?
			 ${options.includeRemoved ? "" : "AND status != 'removed'"}
			 ORDER BY id DESC LIMIT ?`,
		)
		.bind(merchantId, livemode ? 1 : 0, options.limit ?? 100)
		.all<PayoutDestinationRow>();
	return results;
}

/** The live (not removed) wallet destination of this address, if the merchant already has one. */
export async function findWalletDestination(
	db: D1Database,
	merchantId: string,
	livemode: boolean,
	address: string,
): Promise<PayoutDestinationRow | null> {
	return db
		.prepare(
			`SELECT * FROM payout_destinations WHERE merchant_id = ? AND livemode = ?
			 AND type = 'solana_wallet' AND address = ? AND status != 'removed' LIMIT 1`,
		)
		.bind(merchantId, livemode ? 1 : 0, address)
		.first<PayoutDestinationRow>();
}

/** A destination by id alone, for links that carry their own authority (signed onboarding URLs). */
export async function destinationById(
	db: D1Database,
	id: string,
): Promise<PayoutDestinationRow | null> {
	return db
		.prepare("SELECT * FROM payout_destinations WHERE id = ?")
		.bind(id)
		.first<PayoutDestinationRow>();
}

export async function destinationByStripeAccount(
	db: D1Database,
	stripeAccountId: string,
): Promise<PayoutDestinationRow | null> {
	return db
		.prepare("SELECT * FROM payout_destinations WHERE stripe_account_id = ? LIMIT 1")
		.bind(stripeAccountId)
		.first<PayoutDestinationRow>();
}

/**
 * Inserts a destination; it becomes the default of its type when the merchant has none, decided
 * in the same statement (D1 runs one statement at a time, so of two racing first destinations
 * only one becomes the default).
 */
export async function insertDestination(
	db: D1Database,
	row: Omit<PayoutDestinationRow, "is_default" | "removed">,
): Promise<PayoutDestinationRow> {
	await db
		.prepare(
			`INSERT INTO payout_destinations
			 (id, merchant_id, livemode, type, address, stripe_account_id, status, is_default, usable_after, created, updated)
			 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7,
			   NOT EXISTS (SELECT 1 FROM payout_destinations WHERE merchant_id = ?2 AND livemode = ?3
			     AND type = ?4 AND is_default = 1 AND status != 'removed'),
			   ?8, ?9, ?10`,
		)
		.bind(
			row.id,
			row.merchant_id,
			row.livemode,
			row.type,
			row.address,
			row.stripe_account_id,
			row.status,
			row.usable_after,
			row.created,
			row.updated,
		)
		.run();
	const inserted = await getDestination(db, row.merchant_id, row.livemode === 1, row.id);
	if (!inserted) throw new Error(`payout destination ${row.id} vanished after insert`);
	return inserted;
}

/**
 * Makes `id` the default of its type (clearing the others in the same batch); `usableAfter`
 * restarts its cooling-off (never shortens it). False when it is unknown or removed.
 */
export async function makeDefault(
	db: D1Database,
	input: { merchantId: string; livemode: boolean; id: string; usableAfter: number; now: number },
	announce: D1PreparedStatement[] = [],
): Promise<boolean> {
	const mode = input.livemode ? 1 : 0;
	const [, set] = await db.batch([
		db
			.prepare(
				`UPDATE payout_destinations SET is_default = 0, updated = ?4
				 WHERE merchant_id = ?1 AND livemode = ?2 AND is_default = 1 AND id != ?3
				 AND type = (SELECT type FROM payout_destinations WHERE id = ?3 AND merchant_id = ?1
				   AND livemode = ?2 AND status != 'removed')`,
			)
			.bind(input.merchantId, mode, input.id, input.now),
		db
			.prepare(
				`UPDATE payout_destinations SET is_default = 1, updated = ?4,
				   usable_after = MAX(usable_after, ?5)
				 WHERE id = ?3 AND merchant_id = ?1 AND livemode = ?2 AND status != 'removed'
				   AND is_default = 0`,
			)
			.bind(input.merchantId, mode, input.id, input.now, input.usableAfter),
		...announce,
	]);
	return (set?.meta.changes ?? 0) > 0;
}

export type RemoveResult = "removed" | "not_found" | "in_use";

/**
 * Removes a destination unless a pending or in-transit payout uses it; the check and the update
 * are one statement, so a removal never slips between the check and the write.
 */
export async function removeDestination(
	db: D1Database,
	input: { merchantId: string; livemode: boolean; id: string; now: number },
	announce: D1PreparedStatement[] = [],
): Promise<RemoveResult> {
	const mode = input.livemode ? 1 : 0;
	const remove = db
		.prepare(
			`UPDATE payout_destinations SET status = 'removed', is_default = 0, removed = ?4, updated = ?4
			 WHERE id = ?3 AND merchant_id = ?1 AND livemode = ?2 AND status != 'removed'
			 AND NOT EXISTS (SELECT 1 FROM payouts WHERE destination_id = ?3
			   AND status IN ${OPEN_PAYOUT_STATUSES})`,
		)
		.bind(input.merchantId, mode, input.id, input.now);
	const [result] = await db.batch([remove, ...announce]);
	if ((result?.meta.changes ?? 0) > 0) return "removed";
	const row = await getDestination(db, input.merchantId, input.livemode, input.id);
	if (!row || row.status === "removed") return "not_found";
	return "in_use";
}

/**
 * Follows the connected account: `active` when it can receive transfers, back to `onboarding`
 * when Stripe restricts it. Compare-and-set on the status read, so of two racing updates one
 * applies (and announces). True when it changed.
 */
export async function setStripeDestinationStatus(
	db: D1Database,
	input: { id: string; from: "active" | "onboarding"; to: "active" | "onboarding"; now: number },
	announce: D1PreparedStatement[] = [],
): Promise<boolean> {
	const [result] = await db.batch([
		db
			.prepare("UPDATE payout_destinations SET status = ?, updated = ? WHERE id = ? AND status = ?")
			.bind(input.to, input.now, input.id, input.from),
		...announce,
	]);
	return (result?.meta.changes ?? 0) === 1;
}

/**
 * Adds a wallet destination by consuming its proof's challenge, in one batch: the challenge is
 * marked used only if it is unused and unexpired (a conditional update, so of a replay or of two
 * racing proofs exactly one applies), and the destination and its announcement are written only
 * if that update did (SQLite's changes()). False when the challenge was already used.
 */
export async function addFromChallenge(
	db: D1Database,
	input: { nonce: string; now: number; row: Omit<PayoutDestinationRow, "removed"> },
	announce: D1PreparedStatement[] = [],
): Promise<boolean> {
	const { row } = input;
	const [consumed] = await db.batch([
		db
			.prepare(
				`UPDATE payout_destination_challenges SET used = ?4
				 WHERE nonce = ?1 AND merchant_id = ?2 AND livemode = ?3 AND used IS NULL AND expires > ?4`,
			)
			.bind(input.nonce, row.merchant_id, row.livemode, input.now),
		insertDestinationStatement(db, row, { afterChange: true }),
		...announce,
	]);
	return (consumed?.meta.changes ?? 0) === 1;
}

/** Inserts a destination with its default flag as decided; the announcement follows it. */
export async function addDestination(
	db: D1Database,
	row: Omit<PayoutDestinationRow, "removed">,
	announce: D1PreparedStatement[] = [],
): Promise<void> {
	await db.batch([insertDestinationStatement(db, row, { afterChange: false }), ...announce]);
}

function insertDestinationStatement(
	db: D1Database,
	row: Omit<PayoutDestinationRow, "removed">,
	options: { afterChange: boolean },
): D1PreparedStatement {
	return db
		.prepare(
			`INSERT INTO payout_destinations
			 (id, merchant_id, livemode, type, address, stripe_account_id, status, is_default, usable_after, created, updated)
			 SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? ${options.afterChange ? "WHERE changes() = 1" : ""}`,
		)
		.bind(
			row.id,
			row.merchant_id,
			row.livemode,
			row.type,
			row.address,
			row.stripe_account_id,
			row.status,
			row.is_default,
			row.usable_after,
			row.created,
			row.updated,
		);
}

/** Whether the merchant has a default destination of this type in this mode. */
export async function hasDefault(
	db: D1Database,
	merchantId: string,
	livemode: boolean,
	type: string,
): Promise<boolean> {
	const row = await db
		.prepare(
			`SELECT 1 AS yes FROM payout_destinations WHERE merchant_id = ? AND livemode = ? AND type = ?
			 AND is_default = 1 AND status != 'removed' LIMIT 1`,
		)
		.bind(merchantId, livemode ? 1 : 0, type)
		.first<{ yes: number }>();
	return row !== null;
}
