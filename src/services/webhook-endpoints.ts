import { and, count, eq, isNull, type SQL, sql } from "drizzle-orm";
import { createDb } from "../db/client";
import { checkCursors, idWindow, paginate } from "../db/pagination";
import { type webhookAttempts, webhookEndpoints } from "../db/schema";
import { isId, newId } from "../domain/ids";
import type { Owner } from "../domain/owner";
import {
	checkWebhookUrl,
	type EndpointDisabledReason,
	MAX_ENDPOINTS,
	SECRET_PREFIX,
	toApiWebhookEndpoint,
	type WebhookEndpointRecord,
} from "../domain/webhooks";
import type { Env } from "../env";
import {
	decrypt,
	EncryptionConfigError,
	encrypt,
	type Keyring,
	loadKeyring,
} from "../lib/encryption";
import { ApiError, notFound } from "../lib/errors";
import { log } from "../lib/log";
import { emitEvent } from "./events";

export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;
export type WebhookAttemptRow = typeof webhookAttempts.$inferSelect;

export interface NewWebhookEndpoint {
	url: string;
	enabled_events: string[];
	description?: string | undefined;
	metadata: Record<string, string>;
}

/** What `POST /v1/webhook_endpoints/:id` may change; null clears the description. */
export interface WebhookEndpointPatch {
	url?: string | undefined;
	enabled_events?: string[] | undefined;
	description?: string | null | undefined;
	metadata?: Record<string, string> | undefined;
	disabled?: boolean | undefined;
}

export interface PageQuery {
	limit: number;
	starting_after?: string | undefined;
	ending_before?: string | undefined;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

export function toEndpointRecord(row: WebhookEndpointRow): WebhookEndpointRecord {
	return {
		id: row.id,
		merchant_id: row.merchantId,
		livemode: row.livemode,
		url: row.url,
		enabled_events: row.enabledEvents,
		description: row.description,
		metadata: row.metadata,
		disabled: row.disabled,
		disabled_reason: row.disabledReason,
		failing_since: row.failingSince,
		previous_secret_expires_at: row.previousSecretExpiresAt,
		version: row.version,
		created: row.created,
		updated: row.updated,
	};
}

/** The keyring, or a 503 that says why: endpoints cannot exist without a place for secrets. */
export async function secretsKeyring(env: Env): Promise<Keyring> {
	try {
		return await loadKeyring(env.ENCRYPTION_KEYS);
	} catch (error) {
		if (!(error instanceof EncryptionConfigError)) throw error;
		log("error", "webhook secrets unavailable", { error: error.message });
		throw new ApiError(
			"service_unavailable",
			"Webhook endpoints are unavailable: the gateway's encryption keys are not configured.",
		);
	}
}

/** `whsec_` + base64 of 32 random bytes: the Standard Webhooks secret format. */
export function newSigningSecret(): string {
	const bytes = crypto.getRandomValues(new Uint8Array(32));
	return `${SECRET_PREFIX}${btoa(String.fromCharCode(...bytes))}`;
}

function assertUrl(url: string, livemode: boolean): void {
	const check = checkWebhookUrl(url, livemode);
	if (!check.ok) throw new ApiError("parameter_invalid", `url ${check.reason}.`, "url");
}

export async function createWebhookEndpoint(
	env: Env,
	owner: Owner,
	input: NewWebhookEndpoint,
): Promise<{ endpoint: WebhookEndpointRecord; secret: string }> {
	assertUrl(input.url, owner.livemode);
	const db = createDb(env.DB);
	const [existing] = await db
		.select({ n: count() })
		.from(webhookEndpoints)
		.where(and(...ownerConditions(owner), isNull(webhookEndpoints.deleted)));
	if ((existing?.n ?? 0) >= MAX_ENDPOINTS) {
		throw new ApiError(
			"resource_conflict",
			`At most ${MAX_ENDPOINTS} webhook endpoints per mode; delete one first.`,
		);
	}
	const keyring = await secretsKeyring(env);
	const now = Date.now();
	const id = newId("webhookEndpoint", now);
	const secret = newSigningSecret();
	const created = Math.floor(now / 1000);
	const row: WebhookEndpointRow = {
		id,
		merchantId: owner.merchantId,
		livemode: owner.livemode,
		url: input.url,
		description: input.description ?? null,
		enabledEvents: [...new Set(input.enabled_events)],
		metadata: input.metadata,
		secret: await encrypt(keyring, secret, id),
		previousSecret: null,
		previousSecretExpiresAt: null,
		disabled: false,
		disabledReason: null,
		failingSince: null,
		version: 1,
		created,
		updated: created,
		deleted: null,
	};
	await db.insert(webhookEndpoints).values(row);
	return { endpoint: toEndpointRecord(row), secret };
}

function ownerConditions(owner: Owner): SQL[] {
	return [
		eq(webhookEndpoints.merchantId, owner.merchantId),
		eq(webhookEndpoints.livemode, owner.livemode),
	];
}

/** Any endpoint by id, deleted or not: for the queue consumer. */
export async function findWebhookEndpointRow(
	d1: D1Database,
	id: string,
): Promise<WebhookEndpointRow | null> {
	if (!isId("webhookEndpoint", id)) return null;
	const row = await createDb(d1).query.webhookEndpoints.findFirst({
		where: eq(webhookEndpoints.id, id),
	});
	return row ?? null;
}

/** An endpoint the caller may see: another merchant's, another mode's or a deleted one is a 404. */
export async function loadWebhookEndpointRow(
	d1: D1Database,
	owner: Owner,
	id: string,
	param = "id",
): Promise<WebhookEndpointRow> {
	const row = await findWebhookEndpointRow(d1, id);
	if (
		!row ||
		row.deleted !== null ||
		row.merchantId !== owner.merchantId ||
		row.livemode !== owner.livemode
	) {
		throw notFound("webhook endpoint", id, param);
	}
	return row;
}

export async function updateWebhookEndpoint(
	d1: D1Database,
	owner: Owner,
	id: string,
	patch: WebhookEndpointPatch,
): Promise<WebhookEndpointRecord> {
	const current = await loadWebhookEndpointRow(d1, owner, id);
	const changes: Partial<WebhookEndpointRow> = {};
	if (patch.url !== undefined) {
		assertUrl(patch.url, owner.livemode);
		changes.url = patch.url;
	}
	if (patch.enabled_events !== undefined)
		changes.enabledEvents = [...new Set(patch.enabled_events)];
	if (patch.description !== undefined) changes.description = patch.description;
	if (patch.metadata !== undefined) changes.metadata = patch.metadata;
	if (patch.disabled !== undefined && patch.disabled !== current.disabled) {
		changes.disabled = patch.disabled;
		changes.disabledReason = patch.disabled ? "manual" : null;
		// Enabled again: the endpoint gets a fresh three days before failures disable it.
		if (!patch.disabled) changes.failingSince = null;
	}
	if (Object.keys(changes).length === 0) return toEndpointRecord(current);
	const [row] = await createDb(d1)
		.update(webhookEndpoints)
		.set({ ...changes, version: current.version + 1, updated: nowSeconds() })
		.where(and(eq(webhookEndpoints.id, id), isNull(webhookEndpoints.deleted)))
		.returning();
	if (!row) throw notFound("webhook endpoint", id);
	return toEndpointRecord(row);
}

/** Deletes an endpoint: it stops receiving at once and its secrets are erased. */
export async function deleteWebhookEndpoint(d1: D1Database, owner: Owner, id: string) {
	const current = await loadWebhookEndpointRow(d1, owner, id);
	const now = nowSeconds();
	await createDb(d1)
		.update(webhookEndpoints)
		.set({
			deleted: now,
			updated: now,
			secret: "",
			previousSecret: null,
			previousSecretExpiresAt: null,
			version: current.version + 1,
		})
		.where(eq(webhookEndpoints.id, id));
	return { id, object: "webhook_endpoint" as const, deleted: true as const };
}

/**
 * A new signing secret; the current one keeps signing, beside it, for `overlapSeconds` (0: it
 * stops at once). A secret that was still overlapping from an earlier roll stops now.
 */
export async function rollWebhookEndpointSecret(
	env: Env,
	owner: Owner,
	id: string,
	overlapSeconds: number,
): Promise<{ endpoint: WebhookEndpointRecord; secret: string }> {
	const current = await loadWebhookEndpointRow(env.DB, owner, id);
	const keyring = await secretsKeyring(env);
	const secret = newSigningSecret();
	const now = nowSeconds();
	const [row] = await createDb(env.DB)
		.update(webhookEndpoints)
		.set({
			secret: await encrypt(keyring, secret, id),
			// Both columns are bound to the endpoint's id, so the envelope moves as it is.
			previousSecret: overlapSeconds > 0 ? current.secret : null,
			previousSecretExpiresAt: overlapSeconds > 0 ? now + overlapSeconds : null,
			version: current.version + 1,
			updated: now,
		})
		// Two rolls racing: only the one that saw the current secret wins; the other is a 409.
		.where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.secret, current.secret)))
		.returning();
	if (!row) {
		throw new ApiError("resource_conflict", "The secret was rolled concurrently; retry.");
	}
	return { endpoint: toEndpointRecord(row), secret };
}

/** The secrets that sign a delivery now: the current one, then the previous during its overlap. */
export async function signingSecrets(
	env: Env,
	row: WebhookEndpointRow,
	nowSec: number,
): Promise<string[]> {
	const keyring = await loadKeyring(env.ENCRYPTION_KEYS);
	const secrets = [await decrypt(keyring, row.secret, row.id)];
	if (
		row.previousSecret &&
		row.previousSecretExpiresAt !== null &&
		row.previousSecretExpiresAt > nowSec
	) {
		try {
			secrets.push(await decrypt(keyring, row.previousSecret, row.id));
		} catch (error) {
			// Its key was removed from ENCRYPTION_KEYS: the current secret still signs.
			log("warn", "previous webhook secret unreadable", {
				endpoint: row.id,
				error: String(error),
			});
		}
	}
	return secrets;
}

/**
 * Disables an endpoint the gateway gave up on and tells the merchant with a
 * `webhook_endpoint.disabled` event. Only the call that actually disables it emits the event.
 */
export async function disableWebhookEndpoint(
	env: Env,
	id: string,
	reason: Exclude<EndpointDisabledReason, "manual">,
	nowSec: number,
): Promise<boolean> {
	const [endpoint] = await createDb(env.DB)
		.update(webhookEndpoints)
		.set({
			disabled: true,
			disabledReason: reason,
			version: sql`${webhookEndpoints.version} + 1`,
			updated: nowSec,
		})
		.where(
			and(
				eq(webhookEndpoints.id, id),
				eq(webhookEndpoints.disabled, false),
				isNull(webhookEndpoints.deleted),
			),
		)
		.returning();
	if (!endpoint) return false;
	const record = toEndpointRecord(endpoint);
	await emitEvent(env, {
		merchant_id: record.merchant_id,
		livemode: record.livemode,
		type: "webhook_endpoint.disabled",
		object_id: record.id,
		object_version: record.version,
		data: JSON.stringify(toApiWebhookEndpoint(record)),
	});
	log("warn", "webhook endpoint disabled", { endpoint: id, reason });
	return true;
}

/** Newest first, one bounded range of the (merchant, mode, id) index per page. */
export async function listWebhookEndpoints(
	d1: D1Database,
	owner: Owner,
	query: PageQuery,
): Promise<{ data: WebhookEndpointRecord[]; has_more: boolean }> {
	checkCursors(query, "webhookEndpoint", "webhook endpoint");
	const conditions = [...ownerConditions(owner), isNull(webhookEndpoints.deleted)];
	const page = await paginate(query, (window) => {
		const { bounds, orderBy } = idWindow(webhookEndpoints.id, window);
		return createDb(d1)
			.select()
			.from(webhookEndpoints)
			.where(and(...conditions, ...bounds))
			.orderBy(orderBy)
			.limit(window.take);
	});
	return { data: page.data.map(toEndpointRecord), has_more: page.has_more };
}
