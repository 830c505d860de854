import { and, eq, type SQL } from "drizzle-orm";
import { createDb } from "../db/client";
import { checkCursors, idWindow, paginate } from "../db/pagination";
import { paymentLinks } from "../db/schema";
import { isId, newId } from "../domain/ids";
import type { Owner } from "../domain/owner";
import type { PaymentLinkRecord } from "../domain/payment-link";
import type { PaymentMethodType } from "../domain/payment-method";
import { notFound } from "../lib/errors";

type PaymentLinkRow = typeof paymentLinks.$inferSelect;

/** The validated body of `POST /v1/payment_links`. */
export interface NewPaymentLink {
	amount: number;
	currency: string;
	payment_method_types: PaymentMethodType[];
	description?: string | undefined;
	metadata: Record<string, string>;
	success_url?: string | undefined;
	cancel_url?: string | undefined;
	expires_in?: number | undefined;
	solana?: { token: string } | undefined;
	active: boolean;
}

/** What `POST /v1/payment_links/:id` may change; null clears a field, absent keeps it. */
export interface PaymentLinkPatch {
	active?: boolean | undefined;
	description?: string | null | undefined;
	metadata?: Record<string, string> | undefined;
	success_url?: string | null | undefined;
	cancel_url?: string | null | undefined;
}

function toRecord(row: PaymentLinkRow): PaymentLinkRecord {
	return {
		id: row.id,
		merchant_id: row.merchantId,
		livemode: row.livemode,
		active: row.active,
		amount: row.amount,
		currency: row.currency,
		payment_method_types: row.paymentMethodTypes,
		description: row.description,
		metadata: row.metadata,
		success_url: row.successUrl,
		cancel_url: row.cancelUrl,
		expires_in: row.expiresIn,
		solana: row.solanaToken !== null ? { token: row.solanaToken } : null,
		created: row.created,
	};
}

export async function createPaymentLink(
	d1: D1Database,
	owner: Owner,
	input: NewPaymentLink,
): Promise<PaymentLinkRecord> {
	const now = Date.now();
	const created = Math.floor(now / 1000);
	const row: PaymentLinkRow = {
		id: newId("paymentLink", now),
		merchantId: owner.merchantId,
		livemode: owner.livemode,
		active: input.active,
		amount: input.amount,
		currency: input.currency,
		paymentMethodTypes: input.payment_method_types,
		description: input.description ?? null,
		metadata: input.metadata,
		successUrl: input.success_url ?? null,
		cancelUrl: input.cancel_url ?? null,
		expiresIn: input.expires_in ?? null,
		solanaToken: input.solana?.token ?? null,
		created,
		updated: created,
	};
	await createDb(d1).insert(paymentLinks).values(row);
	return toRecord(row);
}

/** Any merchant's link by id: for the public link URL, which the id alone authorises. */
export async function findPaymentLink(
	d1: D1Database,
	id: string,
): Promise<PaymentLinkRecord | null> {
	if (!isId("paymentLink", id)) return null;
	const row = await createDb(d1).query.paymentLinks.findFirst({ where: eq(paymentLinks.id, id) });
	return row ? toRecord(row) : null;
}

/**
 * A link the caller may see. Another merchant's link, or one of the other mode, is reported
 * exactly like an unknown id: existence is never revealed.
 */
export async function loadPaymentLink(
	d1: D1Database,
	owner: Owner,
	id: string,
): Promise<PaymentLinkRecord> {
	const link = await findPaymentLink(d1, id);
	if (!link || link.merchant_id !== owner.merchantId || link.livemode !== owner.livemode) {
		throw notFound("payment link", id);
	}
	return link;
}

export async function updatePaymentLink(
	d1: D1Database,
	owner: Owner,
	id: string,
	patch: PaymentLinkPatch,
): Promise<PaymentLinkRecord> {
	const link = await loadPaymentLink(d1, owner, id);
	const changes: Partial<PaymentLinkRow> = {};
	if (patch.active !== undefined) changes.active = patch.active;
	if (patch.description !== undefined) changes.description = patch.description;
	if (patch.metadata !== undefined) changes.metadata = patch.metadata;
	if (patch.success_url !== undefined) changes.successUrl = patch.success_url;
	if (patch.cancel_url !== undefined) changes.cancelUrl = patch.cancel_url;
	if (Object.keys(changes).length === 0) return link;
	const updated = Math.floor(Date.now() / 1000);
	const [row] = await createDb(d1)
		.update(paymentLinks)
		.set({ ...changes, updated })
		.where(eq(paymentLinks.id, id))
		.returning();
	if (!row) throw notFound("payment link", id);
	return toRecord(row);
}

export interface LinkPageQuery {
	limit: number;
	starting_after?: string | undefined;
	ending_before?: string | undefined;
}

/**
 * Newest first, with the same cursor rules as every list: one bounded range scan of the
 * (merchant, mode, id) index per page.
 */
export async function listPaymentLinks(
	d1: D1Database,
	owner: Owner,
	query: LinkPageQuery,
): Promise<{ data: PaymentLinkRecord[]; has_more: boolean }> {
	checkCursors(query, "paymentLink", "payment link");
	const conditions: SQL[] = [
		eq(paymentLinks.merchantId, owner.merchantId),
		eq(paymentLinks.livemode, owner.livemode),
	];
	const page = await paginate(query, (window) => {
		const { bounds, orderBy } = idWindow(paymentLinks.id, window);
		return createDb(d1)
			.select()
			.from(paymentLinks)
			.where(and(...conditions, ...bounds))
			.orderBy(orderBy)
			.limit(window.take);
	});
	return { data: page.data.map(toRecord), has_more: page.has_more };
}
