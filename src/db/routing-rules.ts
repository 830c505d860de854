// `routing_rules`: a merchant's routing configuration per mode (src/services/routing.ts).
import { and, eq } from "drizzle-orm";
import type { Owner } from "../domain/owner";
import type { RoutingConfig } from "../domain/routing";
import { createDb } from "./client";
import { routingRules } from "./schema";

/** The owner's stored configuration, if any. */
export function routingRulesRow(d1: D1Database, owner: Owner) {
	return createDb(d1).query.routingRules.findFirst({
		where: and(
			eq(routingRules.merchantId, owner.merchantId),
			eq(routingRules.livemode, owner.livemode),
		),
	});
}

/**
 * Replaces the owner's configuration and appends its `routing_rules.updated` event (with the
 * version that same write produced) in one batch; returns the new version.
 */
export async function upsertRoutingRules(
	d1: D1Database,
	owner: Owner,
	config: RoutingConfig,
	updated: number,
	event: { id: string; data: string },
): Promise<number | undefined> {
	const livemode = owner.livemode ? 1 : 0;
	const [upsert] = await d1.batch<{ version: number }>([
		d1
			.prepare(
				`INSERT INTO routing_rules (merchant_id, livemode, strategy, rules, version, created, updated)
				 VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5)
				 ON CONFLICT (merchant_id, livemode) DO UPDATE SET strategy = excluded.strategy,
				   rules = excluded.rules, version = routing_rules.version + 1, updated = excluded.updated
				 RETURNING version`,
			)
			.bind(owner.merchantId, livemode, config.strategy, JSON.stringify(config.rules), updated),
		d1
			.prepare(
				`INSERT INTO events (id, merchant_id, livemode, type, object_id, object_version, data, created)
				 SELECT ?1, merchant_id, livemode, 'routing_rules.updated', merchant_id, version, ?2, ?3
				 FROM routing_rules WHERE merchant_id = ?4 AND livemode = ?5`,
			)
			.bind(event.id, event.data, updated, owner.merchantId, livemode),
	]);
	return upsert?.results[0]?.version;
}
