/**
 * The payouts queue's schedule pages (`{kind: "schedule_page", date, interval, after}`), routed
 * here by the payouts consumer. A page is idempotent (each day's payout per merchant, mode and
 * currency is recorded in its own batch), so a redelivery or a retry creates nothing twice.
 */
import type { PayoutSchedulePageMessage } from "../domain/queue-messages";
import type { Env } from "../env";
import { log } from "../lib/log";
import { runPayoutSchedulePage, sendPayoutSchedulePage } from "../services/payout-schedule";
import { recordGiveUp } from "./index";

/** Attempts before a page is given up (its merchants wait for the next day's run). */
export const MAX_SCHEDULE_PAGE_ATTEMPTS = 5;

export async function handlePayoutSchedulePage(
	queue: string,
	message: Message<unknown>,
	body: PayoutSchedulePageMessage,
	env: Env,
): Promise<void> {
	let error: string;
	try {
		const result = await runPayoutSchedulePage(env, body, { now: Math.floor(Date.now() / 1000) });
		error = result.errors.slice(0, 3).join("; ");
		if (!error || message.attempts >= MAX_SCHEDULE_PAGE_ATTEMPTS) {
			if (error) await recordGiveUp(env, queue, message, `some merchants not paid: ${error}`);
			// The next page only once this one is over: a retried page never starts a second chain.
			if (result.next) await sendPayoutSchedulePage(env, result.next);
			message.ack();
			return;
		}
	} catch (err) {
		error = err instanceof Error ? err.message : String(err);
	}
	if (message.attempts < MAX_SCHEDULE_PAGE_ATTEMPTS) {
		const delaySeconds = Math.min(30 * 2 ** Math.max(0, message.attempts - 1), 15 * 60);
		log("warn", "payout schedule page retried", {
			date: body.date,
			after: body.after,
			attempts: message.attempts,
			error,
		});
		message.retry({ delaySeconds });
		return;
	}
	// The page itself cannot be read: the rest of the day's run is lost, visibly.
	await recordGiveUp(env, queue, message, error);
	message.ack();
}
