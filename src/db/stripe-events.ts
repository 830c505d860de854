// `stripe_events`: each Stripe webhook event by id, so a redelivered event is applied once.

/** Records the event as received (a redelivery changes nothing). */
export async function recordStripeEvent(
	db: D1Database,
	event: { id: string; type: string },
	received: number,
): Promise<void> {
	await db
		.prepare(
			"INSERT INTO stripe_events (id, type, received, processed) VALUES (?, ?, ?, NULL) ON CONFLICT (id) DO NOTHING",
		)
		.bind(event.id, event.type, received)
		.run();
}

/** Whether the event has already been applied. */
export async function stripeEventProcessed(db: D1Database, id: string): Promise<boolean> {
	const seen = await db
		.prepare("SELECT processed FROM stripe_events WHERE id = ?")
		.bind(id)
		.first<{ processed: number | null }>();
	return Boolean(seen?.processed);
}

export async function markStripeEventProcessed(
	db: D1Database,
	id: string,
	processed: number,
	paymentId: string | null,
): Promise<void> {
	await db
		.prepare("UPDATE stripe_events SET processed = ?, payment_id = ? WHERE id = ?")
		.bind(processed, paymentId, id)
		.run();
}
