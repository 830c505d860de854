import {
	claimFormToken,
	completeFormToken,
	deleteIdempotencyKey,
	findFormToken,
} from "../db/idempotency-keys";
import { randomBase62 } from "../domain/ids";
import type { Env } from "../env";
import { sha256Hex } from "../lib/crypto";
import { PageError } from "./context";
import type { DashboardSession } from "./session";

// A dashboard form that creates something (a refund, a report) carries a one-time token. The
// token becomes an idempotency key of the merchant and mode, so a double submit or a resent form
// finds the first object instead of making a second one.

/** How long a form's token is remembered (as long as the API's idempotency keys). */
const TOKEN_TTL_SECONDS = 24 * 60 * 60;
/** How long a submission holds its token; a crashed one frees it after this. */
const LOCK_SECONDS = 60;
const TOKEN = /^[0-9A-Za-z]{32}$/;

/** A fresh one-time token for a form. */
export function newFormToken(): string {
	return randomBase62(32);
}

export type FormOutcome =
	| { state: "created"; id: string }
	| { state: "replayed"; id: string }
	| { state: "in_progress" };

export interface OnceRequest {
	/** What the form makes ("refund", "report"): tokens of different forms never meet. */
	kind: string;
	formToken: string | undefined;
	/** What was asked for; the same token with another request is refused. */
	request: string;
}

/** The form's token, or a 400 page when it is missing or malformed. */
export function checkFormToken(token: string | undefined, what: string): string {
	if (!token || !TOKEN.test(token)) {
		throw new PageError(400, "Check the form", `The ${what} form is incomplete; reload the page.`);
	}
	return token;
}

/**
 * Runs `create` once per form token and returns the id it made; a repeat returns that id. A
 * `create` that throws frees the token, so the corrected form can be sent again.
 */
export async function onceByFormToken(
	env: Env,
	session: DashboardSession,
	once: OnceRequest,
	create: () => Promise<string>,
): Promise<FormOutcome> {
	const token = checkFormToken(once.formToken, once.kind);
	const db = env.DB;
	const pk = [
		session.merchantId,
		session.livemode ? 1 : 0,
		`dashboard-${once.kind}:${token}`,
	] as const;
	const requestHash = await sha256Hex(`dashboard ${once.kind}\n${once.request}`);
	const now = Math.floor(Date.now() / 1000);
	const claimed = await claimFormToken(db, pk, {
		requestHash,
		lockedUntil: now + LOCK_SECONDS,
		now,
		expiresAt: now + TOKEN_TTL_SECONDS,
	});
	if (!claimed) {
		const stored = await findFormToken(db, pk);
		if (stored && stored.request_hash !== requestHash) {
			throw new PageError(
				422,
				"Not accepted",
				`This form was already used for another ${once.kind}. Reload the page to start a new one.`,
			);
		}
		if (stored?.response_status === 200 && stored.response_body) {
			return { state: "replayed", id: stored.response_body };
		}
		return { state: "in_progress" };
	}
	let id: string | null = null;
	try {
		id = await create();
		await completeFormToken(db, pk, id);
		return { state: "created", id };
	} finally {
		if (id === null) {
			// Refused or failed: the same form may be sent again (corrected).
			await deleteIdempotencyKey(db, pk).catch(() => undefined);
		}
	}
}
