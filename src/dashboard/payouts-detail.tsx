import { isId } from "../domain/ids";
import { can } from "../domain/roles";
import type { Env } from "../env";
import { listPayoutItems } from "../services/payout-items";
import { cancelPayout, loadPayout, payoutJson } from "../services/payouts";
import { allow, auditDashboard } from "./access";
import {
	type DashboardApp,
	type DashboardContext,
	PageError,
	seeOther,
	sessionOf,
} from "./context";
import { ActionButton, renderPage, Status, when } from "./layout";
import { PAYOUTS_PAGE } from "./payout-destinations";
import { formatPayoutAmount } from "./payouts-form";

/** Items listed on the page; the API pages through the rest. */
const ITEMS_SHOWN = 100;

/** A signed item amount for people: "-1.50 USD" for what a refund took. */
function signedAmount(env: Env, amount: string, currency: string): string {
	const negative = amount.startsWith("-");
	const shown = formatPayoutAmount(env, negative ? amount.slice(1) : amount, currency);
	return negative ? `-${shown}` : shown;
}

function payoutId(c: DashboardContext): string {
	const id = c.req.param("id") ?? "";
	if (!isId("payout", id)) throw new PageError(404, "Not found", "There is no such payout.");
	return id;
}

/** One payout: its facts, where it went, and canceling it while it is still pending. */
export function registerPayoutDetail(app: DashboardApp): void {
	app.get(`${PAYOUTS_PAGE}/:id`, allow("payouts.read"), async (c) => {
		const session = sessionOf(c);
		const p = payoutJson(await loadPayout(c.env, session, payoutId(c)));
		const items = await listPayoutItems(c.env.DB, session, p.id, { limit: ITEMS_SHOWN });
		const fee =
			p.fee !== null && p.fee_currency ? formatPayoutAmount(c.env, p.fee, p.fee_currency) : "—";
		return renderPage(
			c,
			{ title: `Payout ${p.id}`, session, section: "payouts" },
			<>
				<p>
					<a href={PAYOUTS_PAGE}>← Payouts</a>
				</p>
				<h1 class="mono">{p.id}</h1>
				<section class="card" id="payout">
					<dl class="facts">
						<dt>Amount</dt>
						<dd id="payout-amount">{formatPayoutAmount(c.env, p.amount, p.currency)}</dd>
						<dt>Status</dt>
						<dd id="payout-status">
							<Status value={p.status} />
						</dd>
						<dt>Destination</dt>
						<dd class="mono" id="payout-destination">
							{p.destination}
						</dd>
						<dt>Method</dt>
						<dd>{p.method === "solana" ? "On chain (Solana)" : "Stripe Connect transfer"}</dd>
						<dt>Fees charged</dt>
						<dd>{fee}</dd>
						<dt>Made</dt>
						<dd>{p.automatic ? "by the schedule" : "by hand"}</dd>
						{p.solana_signature ? (
							<>
								<dt>Transaction</dt>
								<dd class="mono" id="payout-signature">
									{p.solana_signature}
								</dd>
							</>
						) : null}
						{p.stripe_transfer ? (
							<>
								<dt>Stripe transfer</dt>
								<dd class="mono">{p.stripe_transfer}</dd>
							</>
						) : null}
						{p.failure_message ? (
							<>
								<dt>Failure</dt>
								<dd>
									{p.failure_code}: {p.failure_message}
								</dd>
							</>
						) : null}
						<dt>Created</dt>
						<dd>{when(p.created)}</dd>
						<dt>Updated</dt>
						<dd>{when(p.updated)}</dd>
					</dl>
					{p.status === "pending" && can(session.role, "payouts.write") ? (
						<ActionButton
							session={session}
							action={`${PAYOUTS_PAGE}/${p.id}/cancel`}
							label="Cancel payout"
						/>
					) : null}
				</section>
				<section class="card" id="payout-transactions">
					<h2>Transactions</h2>
					{items.data.length === 0 ? (
						<p class="muted" id="no-payout-items">
							{p.automatic
								? "No balance transfers are itemised in this payout."
								: "A payout made by hand pays out an amount, not itemised transfers."}
						</p>
					) : (
						<table id="payout-items">
							<thead>
								<tr>
									<th>Transfer</th>
									<th>Type</th>
									<th>Source</th>
									<th>Amount</th>
									<th>Created</th>
								</tr>
							</thead>
							<tbody>
								{items.data.map((item) => (
									<tr data-item={item.id}>
										<td class="mono">{item.id}</td>
										<td>{item.type}</td>
										<td class="mono">
											{isId("payment", item.source) ? (
												<a href={`/dashboard/payments/${item.source}`}>{item.source}</a>
											) : (
												item.source
											)}
										</td>
										<td>{signedAmount(c.env, item.amount, item.currency)}</td>
										<td>{when(item.created)}</td>
									</tr>
								))}
							</tbody>
						</table>
					)}
					{items.has_more ? (
						<p class="muted">
							The first {ITEMS_SHOWN}; all of them from{" "}
							<span class="mono">GET /v1/payouts/{p.id}/transactions</span>.
						</p>
					) : null}
				</section>
			</>,
		);
	});

	// Canceling only returns the money to the available balance: it needs no passkey check.
	app.post(`${PAYOUTS_PAGE}/:id/cancel`, allow("payouts.write"), async (c) => {
		const session = sessionOf(c);
		const id = payoutId(c);
		const payout = await cancelPayout(c.env, session, id);
		await auditDashboard(c.env, session, "payout.canceled", payout.id, {
			amount: payout.amount,
			currency: payout.currency,
		});
		return seeOther(c, `${PAYOUTS_PAGE}/${id}`);
	});
}
