/**
 * The payout fields of a merchant's settings: `payout_schedule` (manual, daily, or weekly on a
 * weekday) and `payout_minimums` per currency, as `/v1/settings` shows and changes them.
 */
import type { MerchantSettings } from "../domain/merchant-settings";
import { MoneyError, parseBaseUnits } from "../domain/money";
import { PayoutInputError, parsePayoutCurrency } from "../domain/payout";
import {
	DEFAULT_WEEKLY_ANCHOR,
	type PayoutInterval,
	type Weekday,
} from "../domain/payout-schedule";
import type { Env } from "../env";
import { ApiError } from "../lib/errors";
import { tokenCatalog } from "./tokens";

/** `/v1/settings` fields of automatic payouts. */
export function payoutSettingsJson(s: MerchantSettings): {
	payout_schedule: { interval: PayoutInterval; weekly_anchor: Weekday | null };
	payout_minimums: Record<string, string>;
} {
	const schedule = s.payout_schedule ?? { interval: "manual" };
	return {
		payout_schedule: {
			interval: schedule.interval,
			weekly_anchor: schedule.interval === "weekly" ? (schedule.weekly_anchor ?? "monday") : null,
		},
		payout_minimums: { ...(s.payout_minimums ?? {}) },
	};
}

/** Currencies with a minimum at most: more is a mistake, not a policy. */
const MAX_MINIMUMS = 32;

/**
 * Applies a settings update's payout fields to `settings` (in place), or throws the house-shape
 * error naming the field. Minimums are keyed by ledger currency (a fiat code, `sol` or a mint)
 * whatever name the request used, with amounts as decimal strings.
 */
export function applyPayoutSettings(
	env: Env,
	settings: MerchantSettings,
	body: {
		payout_schedule?: { interval: PayoutInterval; weekly_anchor?: Weekday | undefined } | undefined;
		payout_minimums?: Record<string, string | number> | null | undefined;
	},
): void {
	const schedule = body.payout_schedule;
	if (schedule) {
		if (schedule.weekly_anchor !== undefined && schedule.interval !== "weekly")
			throw new ApiError(
				"parameter_invalid",
				"weekly_anchor applies only to a weekly schedule.",
				"payout_schedule[weekly_anchor]",
			);
		settings.payout_schedule =
			schedule.interval === "weekly"
				? { interval: "weekly", weekly_anchor: schedule.weekly_anchor ?? DEFAULT_WEEKLY_ANCHOR }
				: { interval: schedule.interval };
	}
	if (body.payout_minimums === null) delete settings.payout_minimums;
	else if (body.payout_minimums !== undefined)
		settings.payout_minimums = parseMinimums(env, body.payout_minimums);
}

function parseMinimums(env: Env, input: Record<string, string | number>): Record<string, string> {
	const entries = Object.entries(input);
	if (entries.length > MAX_MINIMUMS)
		throw new ApiError(
			"parameter_invalid",
			`At most ${MAX_MINIMUMS} currencies can have a minimum.`,
			"payout_minimums",
		);
	const out: Record<string, string> = {};
	const tokens = tokenCatalog(env);
	for (const [name, value] of entries) {
		const param = `payout_minimums[${name.length > 32 ? `${name.slice(0, 32)}…` : name}]`;
		let currency: string;
		try {
			currency = parsePayoutCurrency(name, tokens).currency;
		} catch (err) {
			if (err instanceof PayoutInputError)
				throw new ApiError("parameter_invalid", err.message, param);
			throw err;
		}
		if (Object.hasOwn(out, currency))
			throw new ApiError(
				"parameter_invalid",
				`Two minimums name the same currency (${currency}).`,
				param,
			);
		out[currency] = parseMinimum(value, param);
	}
	return out;
}

/** A minimum: minor or base units, a decimal string or a safe JSON integer, zero or more. */
function parseMinimum(value: string | number, param: string): string {
	if (typeof value === "number") {
		if (!Number.isSafeInteger(value) || value < 0)
			throw new ApiError(
				"parameter_invalid",
				"A minimum is a whole number of minor or base units, zero or more (a decimal string above 2^53).",
				param,
			);
		return String(value);
	}
	try {
		return parseBaseUnits(value).toString();
	} catch (err) {
		if (err instanceof MoneyError) throw new ApiError("parameter_invalid", err.message, param);
		throw err;
	}
}
