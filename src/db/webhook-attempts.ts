export interface TimelineAttempt {
	id: string;
	event_id: string;
	endpoint_id: string;
	attempt: number;
	status: string;
	status_code: number | null;
	error: string | null;
	created: number;
}

/** The delivery attempts of these events (of one merchant and mode), oldest first, at most 500. */
export async function attemptsOfEvents(
	db: D1Database,
	owner: readonly [merchantId: string, livemode: number],
	eventIds: string[],
): Promise<TimelineAttempt[]> {
	if (eventIds.length === 0) return [];
	const { results } = await db
		.prepare(
			`SELECT id, event_id, endpoint_id, attempt, status, status_code, error, created
					 FROM webhook_attempts
					 WHERE event_id IN (${eventIds.map(() => "?").join(",")}) AND merchant_id = ? AND livemode = ?
					 ORDER BY id LIMIT 500`,
		)
		.bind(...eventIds, ...owner)
		.all<TimelineAttempt>();
	return results;
}
