// `webhook_endpoints` queries outside the endpoints service: the key rotation's walk.

/** Endpoints after `after` by id, with their sealed signing secrets (the key rotation's walk). */
export async function webhookSecretsAfter(
	db: D1Database,
	after: string,
	limit: number,
): Promise<{ id: string; secret: string; previous_secret: string | null }[]> {
	const { results } = await db
		.prepare(
			"SELECT id, secret, previous_secret FROM webhook_endpoints WHERE id > ? ORDER BY id LIMIT ?",
		)
		.bind(after, limit)
		.all<{ id: string; secret: string; previous_secret: string | null }>();
	return results;
}

/** Replaces an endpoint's sealed secrets, only if they are still the ones read. */
export function resealWebhookSecretsStatement(
	db: D1Database,
	id: string,
	sealed: { secret: string | null; previous_secret: string | null },
	read: { secret: string; previous_secret: string | null },
): D1PreparedStatement {
	return db
		.prepare(
			`UPDATE webhook_endpoints SET secret = ?, previous_secret = ?
					 WHERE id = ? AND secret = ? AND previous_secret IS ?`,
		)
		.bind(sealed.secret, sealed.previous_secret, id, read.secret, read.previous_secret);
}
