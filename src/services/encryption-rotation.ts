import { customerEmailsAfter, resealCustomerEmailStatement } from "../db/customers";
import { resealStoredResponseStatement, storedResponsesAfter } from "../db/idempotency-keys";
import { resealWebhookSecretsStatement, webhookSecretsAfter } from "../db/webhook-endpoints";
import type { Env } from "../env";
import {
	decrypt,
	encrypt,
	type Keyring,
	lookupHash,
	needsRotation,
	openField,
} from "../lib/encryption";
import { responseAad } from "../middleware/idempotency";

/**
 * Re-encrypts every sealed field under the current key-encryption key (the first entry of
 * ENCRYPTION_KEYS), a bounded batch of rows per call, so an old key can then be removed.
 *
 * Each call reads at most `limit` rows of one table in id order, after `cursor`, and rewrites those
 * not yet under the current key with a compare-and-set on the old value (a concurrent change by a
 * request wins; its value is already under the current key). Rows already current are skipped, so
 * running it again is harmless, and the returned cursor resumes where a call stopped.
 */

/** The tables with sealed fields, in the order the job walks them. */
const PHASES = ["webhook_endpoints", "customers", "idempotency_keys"] as const;
type Phase = (typeof PHASES)[number];

export interface RotationBatch {
	object: "encryption_rotation";
	current_key: string;
	/** The table this batch worked on. */
	table: Phase;
	/** Rows read and rows re-encrypted in this batch. */
	scanned: number;
	rotated: number;
	/** Pass it back to continue; null once every table is done. */
	next_cursor: string | null;
	done: boolean;
}

export function parseCursor(cursor: string | undefined): { phase: Phase; after: string } | null {
	if (cursor === undefined || cursor === "") return { phase: PHASES[0], after: "" };
	const colon = cursor.indexOf(":");
	const phase = cursor.slice(0, colon) as Phase;
	if (colon < 0 || !PHASES.includes(phase)) return null;
	const after = cursor.slice(colon + 1);
	if (phase === "idempotency_keys" && !/^\d*$/.test(after)) return null;
	return { phase, after };
}

export async function rotateBatch(
	env: Env,
	keyring: Keyring,
	position: { phase: Phase; after: string },
	limit: number,
): Promise<RotationBatch> {
	const { phase, after } = position;
	const work = {
		webhook_endpoints: rotateWebhookSecrets,
		customers: rotateCustomerEmails,
		idempotency_keys: rotateStoredResponses,
	}[phase];
	const { scanned, rotated, lastId } = await work(env.DB, keyring, after, limit);
	let next_cursor: string | null;
	if (scanned === limit && lastId !== null) next_cursor = `${phase}:${lastId}`;
	else {
		const following = PHASES[PHASES.indexOf(phase) + 1];
		next_cursor = following ? `${following}:` : null;
	}
	return {
		object: "encryption_rotation",
		current_key: keyring.current.kid,
		table: phase,
		scanned,
		rotated,
		next_cursor,
		done: next_cursor === null,
	};
}

interface BatchResult {
	scanned: number;
	rotated: number;
	lastId: string | null;
}

/** Webhook signing secrets (current and previous), bound to the endpoint's id. */
async function rotateWebhookSecrets(
	db: D1Database,
	keyring: Keyring,
	after: string,
	limit: number,
): Promise<BatchResult> {
	const results = await webhookSecretsAfter(db, after, limit);
	const updates: D1PreparedStatement[] = [];
	for (const row of results) {
		if (!needsRotation(keyring, row.secret) && !needsRotation(keyring, row.previous_secret)) {
			continue;
		}
		const reseal = async (value: string | null) =>
			value === null || !needsRotation(keyring, value)
				? value
				: encrypt(keyring, await decrypt(keyring, value, row.id), row.id);
		updates.push(
			resealWebhookSecretsStatement(
				db,
				row.id,
				{ secret: await reseal(row.secret), previous_secret: await reseal(row.previous_secret) },
				row,
			),
		);
	}
	return finish(db, results, updates);
}

/** Customer emails and their lookup hashes; plaintext rows from before encryption are sealed. */
async function rotateCustomerEmails(
	db: D1Database,
	keyring: Keyring,
	after: string,
	limit: number,
): Promise<BatchResult> {
	const results = await customerEmailsAfter(db, after, limit);
	const updates: D1PreparedStatement[] = [];
	for (const row of results) {
		if (row.email === null || !needsRotation(keyring, row.email)) continue;
		const aad = `customer:${row.id}:email`;
		const email = await openField(keyring, row.email, aad);
		updates.push(
			resealCustomerEmailStatement(
				db,
				row.id,
				{
					email: await encrypt(keyring, email, aad),
					emailHash: await lookupHash(keyring, email.trim().toLowerCase()),
				},
				row.email,
			),
		);
	}
	return finish(db, results, updates);
}

/** Stored idempotent responses (24 hours), walked by rowid: their key is composite. */
async function rotateStoredResponses(
	db: D1Database,
	keyring: Keyring,
	after: string,
	limit: number,
): Promise<BatchResult> {
	const results = await storedResponsesAfter(db, after === "" ? 0 : Number(after), limit);
	const updates: D1PreparedStatement[] = [];
	for (const row of results) {
		if (row.response_body === null || !needsRotation(keyring, row.response_body)) continue;
		const aad = responseAad(row.merchant_id, row.livemode, row.key);
		const body = await openField(keyring, row.response_body, aad);
		updates.push(
			resealStoredResponseStatement(
				db,
				row.id,
				await encrypt(keyring, body, aad),
				row.response_body,
			),
		);
	}
	const done = await finish(db, [], updates);
	return { ...done, scanned: results.length, lastId: results.at(-1)?.id.toString() ?? null };
}

async function finish(
	db: D1Database,
	rows: { id: string }[],
	updates: D1PreparedStatement[],
): Promise<BatchResult> {
	const outcomes = updates.length > 0 ? await db.batch(updates) : [];
	return {
		scanned: rows.length,
		rotated: outcomes.reduce((n, r) => n + (r.meta.changes ?? 0), 0),
		lastId: rows.at(-1)?.id ?? null,
	};
}
