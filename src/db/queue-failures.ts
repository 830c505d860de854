// `queue_failures`: messages their consumer gave up on (src/queues/index.ts records them).

export interface QueueFailureRow {
	id: string;
	queue: string;
	message_id: string;
	body: string;
	attempts: number;
	error: string;
	created: number;
}

export async function insertQueueFailure(db: D1Database, row: QueueFailureRow): Promise<void> {
	await db
		.prepare(
			"INSERT INTO queue_failures (id, queue, message_id, body, attempts, error, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
		)
		.bind(row.id, row.queue, row.message_id, row.body, row.attempts, row.error, row.created)
		.run();
}
