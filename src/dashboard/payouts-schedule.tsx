import type { MerchantSettings } from "../domain/merchant-settings";
import {
	PAYOUT_INTERVALS,
	type PayoutInterval,
	WEEKDAYS,
	type Weekday,
} from "../domain/payout-schedule";
import { can } from "../domain/roles";
import type { Env } from "../env";
import { getMerchant, updateMerchant } from "../services/merchants";
import { applyPayoutSettings, payoutSettingsJson } from "../services/payout-settings";
import { allow, auditDashboard, stepUp } from "./access";
import { type DashboardApp, field, PageError, readForm, seeOther, sessionOf } from "./context";
import { Csrf } from "./layout";
import { PAYOUTS_PAGE } from "./payout-destinations";
import { formatPayoutAmount, parsePayoutForm } from "./payouts-form";
import type { DashboardSession } from "./session";

// The payout schedule on the Payouts page: manual, daily or weekly on a weekday, and the least an
// automatic payout sends per currency. Stored through the same settings as POST /v1/settings
// (payout_schedule, payout_minimums), with its checks; the same for both modes.

const MAX_LINES = 32;

/** `usd 50.00` per line, in major units, as the minimums are typed and shown. */
function minimumsText(env: Env, minimums: Record<string, string>): string {
	return Object.entries(minimums)
		.map(([currency, amount]) => {
			const shown = formatPayoutAmount(env, amount, currency);
			const space = shown.lastIndexOf(" ");
			return `${shown.slice(space + 1).toLowerCase()} ${shown.slice(0, space)}`;
		})
		.join("\n");
}

/** The typed minimums as the settings store them: ledger currency → minor or base units. */
function minimumsFromForm(env: Env, text: string): Record<string, string> {
	const lines = text
		.split(/\r?\n/)
		.map((l) => l.trim())
		.filter((l) => l !== "");
	if (lines.length > MAX_LINES) {
		throw new PageError(400, "Check the form", `At most ${MAX_LINES} minimums.`);
	}
	const out: Record<string, string> = {};
	for (const line of lines) {
		const [currency, amount, ...rest] = line.split(/\s+/);
		if (!currency || !amount || rest.length > 0) {
			throw new PageError(
				400,
				"Check the form",
				`'${line.slice(0, 60)}': write one minimum per line, a currency and an amount (usd 50.00).`,
			);
		}
		const parsed = parsePayoutForm(env, {
			formToken: undefined,
			amount,
			currency,
			destination: undefined,
		});
		out[parsed.currency.currency] = parsed.amount.toString();
	}
	return out;
}

/** The merchant's payout settings as the schedule form shows them. */
export async function scheduleOf(env: Env, merchantId: string) {
	const merchant = await getMerchant(env.DB, merchantId);
	return payoutSettingsJson(merchant?.settings ?? {});
}

export function ScheduleSection(props: {
	env: Env;
	session: DashboardSession;
	current: ReturnType<typeof payoutSettingsJson>;
}) {
	const { current } = props;
	const { interval, weekly_anchor } = current.payout_schedule;
	const write = can(props.session.role, "payouts.write");
	return (
		<section class="card" id="payout-schedule">
			<h2>Schedule</h2>
			<p class="muted">
				Now:{" "}
				<b id="schedule-now">{interval === "weekly" ? `weekly on ${weekly_anchor}` : interval}</b>.
				Daily and weekly payouts send each available balance, after midnight UTC, to the default
				destination of its kind when it is at least the currency's minimum. The same in test and
				live mode.
			</p>
			<form method="post" action={`${PAYOUTS_PAGE}/schedule`} id="schedule-form">
				<Csrf session={props.session} />
				<fieldset disabled={!write}>
					<label for="schedule-interval">Interval</label>
					<select id="schedule-interval" name="interval">
						{PAYOUT_INTERVALS.map((i) => (
							<option value={i} selected={i === interval}>
								{i}
							</option>
						))}
					</select>
					<label for="schedule-anchor">Weekday (weekly)</label>
					<select id="schedule-anchor" name="weekly_anchor">
						{WEEKDAYS.map((d) => (
							<option value={d} selected={d === (weekly_anchor ?? "monday")}>
								{d}
							</option>
						))}
					</select>
					<label for="schedule-minimums">Minimums, one per line (usd 50.00, sol 0.5)</label>
					<textarea id="schedule-minimums" name="minimums" rows={3}>
						{minimumsText(props.env, current.payout_minimums)}
					</textarea>
					{write ? (
						<p>
							<button type="submit" id="schedule-submit">
								Save schedule
							</button>
						</p>
					) : null}
				</fieldset>
			</form>
		</section>
	);
}

/** POST /dashboard/payouts/schedule: the settings' payout fields, with a step-up. */
export function registerPayoutSchedule(app: DashboardApp): void {
	app.post(`${PAYOUTS_PAGE}/schedule`, allow("payouts.write"), stepUp(), async (c) => {
		const session = sessionOf(c);
		const form = await readForm(c);
		const interval = field(form, "interval") as PayoutInterval | undefined;
		if (!interval || !(PAYOUT_INTERVALS as readonly string[]).includes(interval)) {
			throw new PageError(400, "Check the form", "Choose manual, daily or weekly.");
		}
		const anchor = field(form, "weekly_anchor") as Weekday | undefined;
		if (anchor !== undefined && !(WEEKDAYS as readonly string[]).includes(anchor)) {
			throw new PageError(400, "Check the form", "Choose a weekday.");
		}
		const minimums = minimumsFromForm(c.env, form.get("minimums") ?? "");
		const merchant = await getMerchant(c.env.DB, session.merchantId);
		if (!merchant) throw new PageError(404, "Not found", "The merchant is gone.");
		const settings: MerchantSettings = { ...merchant.settings };
		const change = {
			payout_schedule:
				interval === "weekly" ? { interval, weekly_anchor: anchor ?? "monday" } : { interval },
			payout_minimums: Object.keys(minimums).length > 0 ? minimums : null,
		};
		applyPayoutSettings(c.env, settings, change);
		await updateMerchant(c.env.DB, session.merchantId, { settings });
		await auditDashboard(c.env, session, "settings.updated", session.merchantId, {
			fields: ["payout_schedule", "payout_minimums"],
			changes: change,
		});
		return seeOther(c, `${PAYOUTS_PAGE}?scheduled=1`);
	});
}
