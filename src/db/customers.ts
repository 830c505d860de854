// `customers` queries outside the customers service: the key rotation's walk.

/** Customers after `after` by id, with their sealed emails (the key rotation's walk). */
export async function customerEmailsAfter(
	db: D1Database,
	after: string,
	limit: number,
): Promise<{ id: string; email: string | null }[]> {
	const { results } = await db
		.prepare("SELECT id, email FROM customers WHERE id > ? ORDER BY id LIMIT ?")
		.bind(after, limit)
		.all<{ id: string; email: string | null }>();
	return results;
}

/** Replaces a customer's sealed email and its lookup hash, only if the email is still the one read. */
export function resealCustomerEmailStatement(
	db: D1Database,
	id: string,
	sealed: { email: string; emailHash: string },
	readEmail: string,
): D1PreparedStatement {
	return db
		.prepare("UPDATE customers SET email = ?, email_hash = ? WHERE id = ? AND email = ?")
		.bind(sealed.email, sealed.emailHash, id, readEmail);
}
