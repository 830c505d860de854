/** A merchant's `team_settings` row, or null when none was ever saved. */
export async function findTeamSettings(
	db: D1Database,
	merchantId: string,
): Promise<{
	refund_step_up_above: number | null;
	refund_step_up_currency: string | null;
	updated: number;
} | null> {
	return db
		.prepare(
			"SELECT refund_step_up_above, refund_step_up_currency, updated FROM team_settings WHERE merchant_id = ?",
		)
		.bind(merchantId)
		.first();
}

/** Sets (or, with nulls, clears) the refund amount above which a step-up is asked for. */
export async function upsertRefundStepUp(
	db: D1Database,
	merchantId: string,
	threshold: { amount: number; currency: string } | null,
	updated: number,
): Promise<void> {
	await db
		.prepare(
			`INSERT INTO team_settings (merchant_id, refund_step_up_above, refund_step_up_currency, updated)
			 VALUES (?1, ?2, ?3, ?4)
			 ON CONFLICT (merchant_id) DO UPDATE SET refund_step_up_above = ?2, refund_step_up_currency = ?3, updated = ?4`,
		)
		.bind(merchantId, threshold?.amount ?? null, threshold?.currency ?? null, updated)
		.run();
}
