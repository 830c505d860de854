import { formatTokenAmount, payingWith } from "../domain/checkout";
import { isId } from "../domain/ids";
import { REFUND_REASONS } from "../domain/refund";
import { can } from "../domain/roles";
import { cancelCardIntent } from "../services/cards";
import { loadPayment, paymentStub, unwrapTransition } from "../services/payments";
import { allow, auditDashboard, sessionAuth, stepUp } from "./access";
import {
	type DashboardApp,
	type DashboardContext,
	field,
	readForm,
	seeOther,
	sessionOf,
} from "./context";
import { ActionButton, Csrf, money, renderPage, Status, when } from "./layout";
import { explorerUrl, paymentDetail, postingAmount, timelineRows } from "./payment-data";
import { methodOf } from "./payments";
import { newFormToken, refundOnce, refundStepUp } from "./refund-form";
import type { DashboardSession } from "./session";

async function load(c: DashboardContext) {
	const session = sessionOf(c);
	const id = c.req.param("id") ?? "";
	// Another merchant's payment, or the other mode's, is reported exactly like an unknown id.
	return { session, payment: await loadPayment(c.env, sessionAuth(session), id) };
}

export function registerPaymentDetail(app: DashboardApp): void {
	app.get("/dashboard/payments/:id", allow("payments.read"), async (c) => {
		const { session, payment } = await load(c);
		const detail = await paymentDetail(c.env, payment);
		const refunded = c.req.query("refunded");
		const notice = c.req.query("notice");
		// Pending refunds already hold their amount: what is left excludes them.
		const pending = detail.refunds
			.filter((r) => r.status === "pending")
			.reduce((sum, r) => sum + (r.amount ?? 0), 0);
		const left = payment.amount_received - payment.amount_refunded - pending;
		const signature = payment.solana?.signature ?? null;
		const eventTypes = new Map(detail.events.map((e) => [e.id, e.type]));
		// A quote in a token matters unless the payment went (or is going) by card.
		const tokenQuote = payment.solana && payingWith(payment) !== "card" ? payment.solana : null;
		const unpaid = payment.status === "requires_payment";
		return renderPage(
			c,
			{ title: payment.id, session, section: "payments" },
			<>
				<p>
					<a href="/dashboard/payments">← Payments</a>
				</p>
				<h1>
					{money(payment.amount, payment.currency)} <Status value={payment.status} />
				</h1>
				{refunded && isId("refund", refunded) ? (
					<p class="notice ok" role="status" id="refund-notice">
						Refund {refunded} created.
					</p>
				) : null}
				{c.req.query("canceled") === "1" ? (
					<p class="notice ok" role="status" id="cancel-notice">
						Payment canceled.
					</p>
				) : null}
				{unpaid ? (
					<p id="unpaid-actions">
						Not paid yet:{" "}
						<a id="checkout-link" href={payment.checkout_url} rel="noopener" target="_blank">
							open its checkout
						</a>{" "}
						{can(session.role, "payments.cancel") ? (
							<ActionButton
								session={session}
								action={`/dashboard/payments/${payment.id}/cancel`}
								label="Cancel payment"
							/>
						) : null}
					</p>
				) : null}
				{notice === "in_progress" ? (
					<p class="notice" role="status">
						This refund is being created; reload in a moment to see it.
					</p>
				) : null}
				<div class="grid">
					<section class="card">
						<h2>Summary</h2>
						<dl class="facts" id="summary">
							<dt>Id</dt>
							<dd class="mono">{payment.id}</dd>
							<dt>Amount</dt>
							<dd>{money(payment.amount, payment.currency)}</dd>
							<dt>Received</dt>
							<dd>{money(payment.amount_received, payment.currency)}</dd>
							<dt>Refunded</dt>
							<dd id="amount-refunded">
								{money(payment.amount_refunded, payment.currency)}
								{pending > 0 ? ` (${money(pending, payment.currency)} pending)` : ""}
							</dd>
							<dt>Method</dt>
							<dd>{methodOf(payment)}</dd>
							{payment.held_funds?.card || payment.held_funds?.solana ? (
								<>
									<dt>Held for refund</dt>
									<dd id="held-funds">
										{[
											payment.held_funds.card
												? `card ${money(payment.held_funds.card.amount, payment.currency)} (${money(payment.held_funds.card.refunded, payment.currency)} refunded)`
												: null,
											payment.held_funds.solana && payment.solana
												? `${formatTokenAmount(payment.held_funds.solana.amount, payment.solana.decimals)} ${payment.held_funds.solana.token} (${formatTokenAmount(payment.held_funds.solana.refunded, payment.solana.decimals)} refunded)`
												: null,
										]
											.filter(Boolean)
											.join(" · ")}
									</dd>
								</>
							) : null}
							{tokenQuote ? (
								<>
									<dt>Token amount</dt>
									<dd id="token-amount">
										{formatTokenAmount(tokenQuote.amount, tokenQuote.decimals)} {tokenQuote.token}
									</dd>
								</>
							) : null}
							<dt>Signature</dt>
							<dd>
								{signature ? (
									<a
										id="explorer-link"
										class="mono"
										href={explorerUrl(c.env, signature)}
										rel="noopener noreferrer"
										target="_blank"
									>
										{signature}
									</a>
								) : (
									"—"
								)}
							</dd>
							{payment.card?.charge ? (
								<>
									<dt>Card charge</dt>
									<dd class="mono">{payment.card.charge}</dd>
								</>
							) : null}
							<dt>Customer</dt>
							<dd class="mono">{payment.customer ?? "—"}</dd>
							<dt>Description</dt>
							<dd>{payment.description ?? "—"}</dd>
							<dt>Created</dt>
							<dd>{when(payment.created)}</dd>
							<dt>Succeeded</dt>
							<dd>{when(payment.succeeded_at)}</dd>
						</dl>
						{Object.keys(payment.metadata).length > 0 ? (
							<>
								<h2>Metadata</h2>
								<dl class="facts">
									{Object.entries(payment.metadata).map(([k, v]) => (
										<>
											<dt class="mono">{k}</dt>
											<dd class="mono">{v}</dd>
										</>
									))}
								</dl>
							</>
						) : null}
					</section>
					<section class="card">
						<h2>Refunds</h2>
						{detail.refunds.length === 0 ? (
							<p class="muted">No refunds.</p>
						) : (
							<table id="refunds">
								<thead>
									<tr>
										<th>Refund</th>
										<th class="num">Amount</th>
										<th>Status</th>
										<th>Reason</th>
										<th>Created</th>
									</tr>
								</thead>
								<tbody>
									{detail.refunds.map((r) => (
										<tr data-refund={r.id}>
											<td class="mono">{r.id}</td>
											<td class="num">
												{r.amount === null ? "held funds" : money(r.amount, r.currency)}
											</td>
											<td>
												<Status value={r.status} />
											</td>
											<td>{r.reason ?? "—"}</td>
											<td>{when(r.created)}</td>
										</tr>
									))}
								</tbody>
							</table>
						)}
						{left > 0 ? (
							<RefundForm
								session={session}
								paymentId={payment.id}
								left={money(left, payment.currency)}
							/>
						) : null}
					</section>
				</div>
				<section class="card">
					<h2>Timeline</h2>
					<table id="timeline">
						<thead>
							<tr>
								<th>When</th>
								<th>What</th>
								<th>Detail</th>
							</tr>
						</thead>
						<tbody>
							{timelineRows(detail).map((row) => (
								<tr data-kind={row.kind}>
									<td>{when(row.at)}</td>
									<td>{row.what}</td>
									<td class="mono">{row.detail}</td>
								</tr>
							))}
						</tbody>
					</table>
				</section>
				<section class="card">
					<h2>Webhook attempts</h2>
					{detail.attempts.length === 0 ? (
						<p class="muted">No webhook deliveries for these events.</p>
					) : (
						<table id="attempts">
							<thead>
								<tr>
									<th>Event</th>
									<th>Endpoint</th>
									<th>Attempt</th>
									<th>Result</th>
									<th>When</th>
								</tr>
							</thead>
							<tbody>
								{detail.attempts.map((a) => (
									<tr>
										<td>
											{eventTypes.get(a.event_id)} <span class="mono muted">{a.event_id}</span>
										</td>
										<td>
											<a class="mono" href={`/dashboard/webhooks/${a.endpoint_id}`}>
												{a.endpoint_id}
											</a>
										</td>
										<td class="num">{a.attempt}</td>
										<td>
											<Status value={a.status} /> {a.status_code ?? a.error ?? ""}
										</td>
										<td>{when(a.created)}</td>
									</tr>
								))}
							</tbody>
						</table>
					)}
				</section>
				{detail.heldForSender.length > 0 && (
					<section class="card">
						<h2>Funds held for their sender</h2>
						<p class="muted">
							Transfers that named this payment but were not its own (another token, several
							payments in one transaction, another token account). They are not yours: the operator
							sends them back to the wallet they came from.
						</p>
						<table id="held-for-sender">
							<thead>
								<tr>
									<th>Transaction</th>
									<th>Sender</th>
									<th class="num">Amount (base units)</th>
									<th>Token</th>
									<th>Why</th>
									<th>Status</th>
								</tr>
							</thead>
							<tbody>
								{detail.heldForSender.map((h) => (
									<tr>
										<td class="mono">{h.signature}</td>
										<td class="mono">{h.sender}</td>
										<td class="num">{h.amount}</td>
										<td class="mono">{h.currency}</td>
										<td>{h.reason.replaceAll("_", " ")}</td>
										<td>{h.status.replace("_", " ")}</td>
									</tr>
								))}
							</tbody>
						</table>
					</section>
				)}
				<section class="card">
					<h2>Ledger postings</h2>
					{detail.postings.length === 0 ? (
						<p class="muted">Nothing posted yet.</p>
					) : (
						<table id="postings">
							<thead>
								<tr>
									<th>Transfer</th>
									<th>Account</th>
									<th class="num">Amount</th>
									<th>Currency</th>
								</tr>
							</thead>
							<tbody>
								{detail.postings.map((p) => (
									<tr>
										<td class="mono">
											{p.transfer_id} <span class="muted">({p.kind})</span>
										</td>
										<td class="mono">{p.account}</td>
										<td class="num">{postingAmount(c.env, p.amount, p.currency)}</td>
										<td>{p.currency}</td>
									</tr>
								))}
							</tbody>
						</table>
					)}
				</section>
			</>,
		);
	});

	// Cancels an unpaid payment as POST /v1/payments/:id/cancel does (a card form or authorisation
	// is released at Stripe first); for a person who may cancel, after a step-up.
	app.post("/dashboard/payments/:id/cancel", allow("payments.cancel"), stepUp(), async (c) => {
		const { session, payment } = await load(c);
		const released = await cancelCardIntent(c.env, payment, null);
		if (released?.status !== "canceled") {
			unwrapTransition(await paymentStub(c.env, payment.id).cancel(null), payment.id);
		}
		await auditDashboard(c.env, session, "payment.canceled", payment.id);
		return seeOther(c, `/dashboard/payments/${payment.id}?canceled=1`);
	});

	app.post("/dashboard/payments/:id/refunds", allow("refunds.create"), async (c) => {
		const { session, payment } = await load(c);
		const form = await readForm(c);
		await refundStepUp(c, session, payment, field(form, "amount"));
		const outcome = await refundOnce(c.env, session, payment, {
			formToken: field(form, "form_token"),
			amount: field(form, "amount"),
			reason: field(form, "reason"),
		});
		if (outcome.state === "created") {
			await auditDashboard(c.env, session, "refund.created", outcome.refundId, {
				payment: payment.id,
			});
		}
		const back = `/dashboard/payments/${payment.id}`;
		if (outcome.state === "in_progress") return seeOther(c, `${back}?notice=in_progress`);
		return seeOther(c, `${back}?refunded=${outcome.refundId}`);
	});
}

function RefundForm(props: { session: DashboardSession; paymentId: string; left: string }) {
	return (
		<form method="post" action={`/dashboard/payments/${props.paymentId}/refunds`} id="refund-form">
			<h2>Refund</h2>
			<Csrf session={props.session} />
			<input type="hidden" name="form_token" value={newFormToken()} />
			<label for="refund-amount">Amount (empty refunds all {props.left} left)</label>
			<input id="refund-amount" name="amount" inputmode="decimal" placeholder={props.left} />
			<label for="refund-reason">Reason</label>
			<select id="refund-reason" name="reason">
				<option value="">None given</option>
				{REFUND_REASONS.map((r) => (
					<option value={r}>{r.replace(/_/g, " ")}</option>
				))}
			</select>
			<p>
				<button type="submit" id="refund-submit">
					Refund
				</button>
			</p>
		</form>
	);
}
