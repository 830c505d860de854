import type { PayoutJson } from "../domain/payout";
import type { PayoutDestinationRow } from "../domain/payout-destination";
import { can } from "../domain/roles";
import { listPayoutDestinations } from "../services/payout-destinations";
import { listMerchantPayouts } from "../services/payouts";
import { tokenCatalog } from "../services/tokens";
import { allow, stepUp } from "./access";
import {
	type DashboardApp,
	type DashboardContext,
	field,
	PageError,
	readForm,
	seeOther,
	sessionOf,
} from "./context";
import { newFormToken } from "./form-once";
import { Csrf, renderPage, Status, when } from "./layout";
import {
	DestinationsSection,
	PAYOUTS_PAGE,
	registerPayoutDestinationActions,
} from "./payout-destinations";
import { registerPayoutDetail } from "./payouts-detail";
import { formatPayoutAmount, isRefusal, payoutOnce } from "./payouts-form";
import { sandboxWalletOnPayouts } from "./payouts-sandbox-wallet";
import { registerPayoutSchedule, ScheduleSection, scheduleOf } from "./payouts-schedule";
import type { DashboardSession } from "./session";

/** A refusal shown on the page beside the part it is about. */
export interface PayoutsRefusal {
	where: "destinations" | "payout";
	status: 400 | 404 | 409 | 422;
	message: string;
}

const NOTICES: Record<string, string> = {
	added: "Payout destination added.",
	updated: "Default payout destination changed.",
	removed: "Payout destination removed.",
	scheduled: "Payout schedule saved.",
};

/** Payouts shown on the page (the API lists them all, by cursor). */
const RECENT_PAYOUTS = 25;

function PayoutForm(props: {
	session: DashboardSession;
	destinations: PayoutDestinationRow[];
	currencies: string[];
	error?: string | undefined;
}) {
	const usable = props.destinations.filter((d) => d.status === "active");
	return (
		<form method="post" action={PAYOUTS_PAGE} class="card" id="payout-form">
			<h2>Pay out now</h2>
			<p class="muted">
				From your available balance: tokens go on chain to a wallet, fiat to a Stripe account. It
				asks for your passkey if you have not confirmed in the last five minutes.
			</p>
			{props.error ? (
				<p class="notice error" role="alert" id="payout-error">
					{props.error}
				</p>
			) : null}
			<Csrf session={props.session} />
			<input type="hidden" name="form_token" value={newFormToken()} />
			<label for="payout-amount">Amount</label>
			<input id="payout-amount" name="amount" inputmode="decimal" required placeholder="12.50" />
			<label for="payout-currency">Currency</label>
			<select id="payout-currency" name="currency">
				{props.currencies.map((c) => (
					<option value={c}>{c.toUpperCase()}</option>
				))}
			</select>
			<label for="payout-destination">Destination</label>
			<select id="payout-destination" name="destination">
				<option value="">The default of its kind</option>
				{usable.map((d) => (
					<option value={d.id}>
						{d.type === "solana_wallet" ? "Wallet" : "Stripe"} {d.address ?? d.stripe_account_id}
					</option>
				))}
			</select>
			<p>
				<button type="submit" id="payout-submit">
					Pay out
				</button>
			</p>
		</form>
	);
}

function PayoutsTable(props: { c: DashboardContext; payouts: PayoutJson[] }) {
	if (props.payouts.length === 0) {
		return (
			<p class="empty" id="no-payouts">
				No payouts yet.
			</p>
		);
	}
	return (
		<table id="payout-list">
			<thead>
				<tr>
					<th>Payout</th>
					<th>Amount</th>
					<th>Status</th>
					<th>Destination</th>
					<th>Created</th>
				</tr>
			</thead>
			<tbody>
				{props.payouts.map((p) => (
					<tr data-payout={p.id}>
						<td>
							<a class="mono" href={`${PAYOUTS_PAGE}/${p.id}`}>
								{p.id}
							</a>
							{p.automatic ? <span class="muted"> (scheduled)</span> : null}
						</td>
						<td>{formatPayoutAmount(props.c.env, p.amount, p.currency)}</td>
						<td>
							<Status value={p.status} />
						</td>
						<td class="mono">{p.destination}</td>
						<td>{when(p.created)}</td>
					</tr>
				))}
			</tbody>
		</table>
	);
}

/** The Payouts page: destinations, a manual payout, the schedule and the recent payouts. */
export async function payoutsPage(c: DashboardContext, refusal?: PayoutsRefusal) {
	const session = sessionOf(c);
	const owner = { merchantId: session.merchantId, livemode: session.livemode };
	const [destinations, payouts, schedule] = await Promise.all([
		listPayoutDestinations(c.env, owner),
		listMerchantPayouts(c.env, owner, { limit: RECENT_PAYOUTS }, {}),
		scheduleOf(c.env, session.merchantId),
	]);
	const now = Math.floor(Date.now() / 1000);
	const notice = Object.keys(NOTICES).find((k) => c.req.query(k) !== undefined);
	const currencies = [
		...tokenCatalog(c.env).map((t) => t.symbol.toLowerCase()),
		// Connect transfers leave the platform's Stripe balance, in its currency.
		...(destinations.some((d) => d.type === "stripe_account") ? ["usd"] : []),
	];
	return renderPage(
		c,
		{ title: "Payouts", session, section: "payouts", status: refusal?.status ?? 200 },
		<>
			<h1>Payouts</h1>
			{notice ? (
				<p class="notice ok" role="status" id="payouts-notice">
					{NOTICES[notice]}
				</p>
			) : null}
			<DestinationsSection
				session={session}
				destinations={destinations}
				now={now}
				error={refusal?.where === "destinations" ? refusal.message : undefined}
			/>
			{can(session.role, "payouts.write") ? (
				<PayoutForm
					session={session}
					destinations={destinations}
					currencies={currencies}
					error={refusal?.where === "payout" ? refusal.message : undefined}
				/>
			) : null}
			<ScheduleSection env={c.env} session={session} current={schedule} />
			<section class="card" id="payouts">
				<h2>Recent payouts</h2>
				<PayoutsTable c={c} payouts={payouts.data} />
			</section>
		</>,
	);
}

/** /dashboard/payouts: where a merchant's money goes, and the payouts that took it there. */
export function registerPayoutsPages(app: DashboardApp): void {
	app.get(PAYOUTS_PAGE, allow("payouts.read"), sandboxWalletOnPayouts(), (c) => payoutsPage(c));

	app.post(PAYOUTS_PAGE, allow("payouts.write"), stepUp(), async (c) => {
		const session = sessionOf(c);
		const form = await readForm(c);
		const destination = field(form, "destination");
		let outcome: Awaited<ReturnType<typeof payoutOnce>>;
		try {
			outcome = await payoutOnce(c.env, session, {
				formToken: field(form, "form_token"),
				amount: field(form, "amount"),
				currency: field(form, "currency"),
				destination,
			});
		} catch (error) {
			if (error instanceof PageError && error.status === 400) {
				return payoutsPage(c, { where: "payout", status: 400, message: error.message });
			}
			if (!isRefusal(error)) throw error;
			const status = error.status === 404 ? 404 : error.status === 409 ? 409 : 400;
			return payoutsPage(c, { where: "payout", status, message: error.message });
		}
		if (outcome.state === "in_progress") return seeOther(c, PAYOUTS_PAGE);
		return seeOther(c, `${PAYOUTS_PAGE}/${outcome.id}`);
	});

	registerPayoutDestinationActions(app, (c, refused) =>
		payoutsPage(c, { where: "destinations", status: refused.status, message: refused.message }),
	);
	registerPayoutDetail(app);
	registerPayoutSchedule(app);
}
