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

/**
 * The latest attempts of deliveries that are overdue: failed with a next attempt due in
 * [dueFrom, dueBefore), or pending since [claimedFrom, claimedBefore), on endpoints still enabled;
 * oldest first.
 */
export async function overdueAttempts(
	db: D1Database,
	q: {
		dueFrom: number;
		dueBefore: number;
		claimedFrom: number;
		claimedBefore: number;
		limit: number;
	},
): Promise<{ event_id: string; endpoint_id: string; redelivery_id: string }[]> {
	const { results } = await db
		.prepare(
			`SELECT a.event_id, a.endpoint_id, a.redelivery_id FROM webhook_attempts a
		 JOIN webhook_endpoints we ON we.id = a.endpoint_id AND we.disabled = 0 AND we.deleted IS NULL
		 WHERE ((a.status = 'failed' AND a.next_attempt_at IS NOT NULL
		         AND a.next_attempt_at >= ? AND a.next_attempt_at < ?)
		     OR (a.status = 'pending' AND a.created >= ? AND a.created < ?))
		   AND NOT EXISTS (SELECT 1 FROM webhook_attempts b
		     WHERE b.endpoint_id = a.endpoint_id AND b.event_id = a.event_id
		       AND b.redelivery_id = a.redelivery_id AND b.attempt > a.attempt)
		 ORDER BY a.id LIMIT ?`,
		)
		.bind(q.dueFrom, q.dueBefore, q.claimedFrom, q.claimedBefore, q.limit)
		.all<{ event_id: string; endpoint_id: string; redelivery_id: string }>();
	return results;
}
