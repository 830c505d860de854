import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/env";

/** What one scan of a settlement account did. */
export interface ScanSummary {
	/** True when every signature the account had at the scan's end has been booked. */
	caughtUp: boolean;
	/** Signatures booked by this scan. */
	processed: number;
	/** The newest slot the scan saw for the account (0 when it has no signatures). */
	slot: number;
}

/**
 * One object per settlement account (the settlement wallet for SOL, its associated token account
 * for each mint): pages the account's signatures back to a persisted cursor and books every
 * inflow, to a payment by reference or as unattributed funds.
 */
export class SettlementWatcher extends DurableObject<Env> {
	async scan(): Promise<ScanSummary> {
		return { caughtUp: true, processed: 0, slot: 0 };
	}
}
