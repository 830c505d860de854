/**
 * Payout destinations: the D1 row, its API shape, and why a destination cannot take a payout.
 * Pure: the SQL is in src/db/payout-destinations.ts.
 */

export const PAYOUT_DESTINATION_TYPES = ["solana_wallet", "stripe_account"] as const;
export type PayoutDestinationType = (typeof PAYOUT_DESTINATION_TYPES)[number];

export const PAYOUT_DESTINATION_STATUSES = ["onboarding", "active", "removed"] as const;
export type PayoutDestinationStatus = (typeof PAYOUT_DESTINATION_STATUSES)[number];

/** A `payout_destinations` row as D1 returns it (snake_case, booleans as 0/1). */
export interface PayoutDestinationRow {
	id: string;
	merchant_id: string;
	livemode: number;
	type: PayoutDestinationType;
	address: string | null;
	stripe_account_id: string | null;
	status: PayoutDestinationStatus;
	is_default: number;
	usable_after: number;
	created: number;
	updated: number;
	removed: number | null;
}

/**
 * Why no destination can take a payout now: the named one is unknown to this merchant and mode
 * (`not_found`), removed, still onboarding with Stripe, cooling off after being added or made
 * default (until `usable_after`), of the other kind than the payout needs (`wrong_type`), or none
 * was named and there is neither a default nor a single one of the kind (`none`).
 */
export type UnusableReason =
	| "not_found"
	| "removed"
	| "onboarding"
	| "cooling_off"
	| "wrong_type"
	| "none";

export type UsableDestination =
	| { ok: true; destination: PayoutDestinationRow }
	| {
			ok: false;
			reason: UnusableReason;
			/** Set for `cooling_off`: unix seconds from which it is usable. */
			usable_after?: number;
			/** The destination judged, when there was one. */
			destination?: PayoutDestinationRow;
	  };

/** Judges one destination for a payout of `type` at `nowSeconds`. */
export function judgeDestination(
	row: PayoutDestinationRow,
	type: PayoutDestinationType,
	nowSeconds: number,
): UsableDestination {
	if (row.status === "removed") return { ok: false, reason: "removed", destination: row };
	if (row.type !== type) return { ok: false, reason: "wrong_type", destination: row };
	if (row.status === "onboarding") return { ok: false, reason: "onboarding", destination: row };
	if (row.usable_after > nowSeconds) {
		return { ok: false, reason: "cooling_off", usable_after: row.usable_after, destination: row };
	}
	return { ok: true, destination: row };
}

/** Live mode waits `coolingOffSeconds` before a new or newly default destination takes money. */
export function usableAfterFor(livemode: boolean, nowSeconds: number, coolingOffSeconds: number) {
	return livemode ? nowSeconds + coolingOffSeconds : nowSeconds;
}

export interface ApiPayoutDestination {
	id: string;
	object: "payout_destination";
	type: PayoutDestinationType;
	address: string | null;
	stripe_account: string | null;
	status: PayoutDestinationStatus;
	default: boolean;
	usable_after: number;
	livemode: boolean;
	created: number;
	removed: number | null;
}

export function toApiDestination(row: PayoutDestinationRow): ApiPayoutDestination {
	return {
		id: row.id,
		object: "payout_destination",
		type: row.type,
		address: row.address,
		stripe_account: row.stripe_account_id,
		status: row.status,
		default: row.is_default === 1,
		usable_after: row.usable_after,
		livemode: row.livemode === 1,
		created: row.created,
		removed: row.removed,
	};
}
