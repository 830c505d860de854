import { listConversions } from "../db/conversions";
import { merchantBalance } from "../db/ledger";
import { isId } from "../domain/ids";
import { isSupportedCurrency } from "../domain/money";
import { toApiConversion } from "../services/conversion-json";
import { allow } from "./access";
import { type DashboardApp, sessionOf } from "./context";
import { money, renderPage, Status, when } from "./layout";

/** Fiat in its minor units; a token balance (SOL or a mint) in base units, as the ledger keeps it. */
function amountText(amount: bigint | number | string | null, currency: string): string {
	if (amount === null) return "—";
	if (isSupportedCurrency(currency) && typeof amount !== "string") return money(amount, currency);
	return `${amount} ${currency} (base units)`;
}

/** Available and pending balances from the ledger (as GET /v1/balances), then conversions. */
export function registerBalancePages(app: DashboardApp): void {
	app.get("/dashboard/balances", allow("balances.read"), async (c) => {
		const session = sessionOf(c);
		const cursor = c.req.query("starting_after");
		const balance = await merchantBalance(c.env.DB, session.merchantId, session.livemode);
		const page = await listConversions(
			c.env.DB,
			session,
			{},
			{
				limit: 25,
				starting_after: cursor && isId("conversion", cursor) ? cursor : undefined,
			},
		);
		const conversions = page.data.map(toApiConversion);
		const currencies = [
			...new Set([...balance.available, ...balance.pending].map((b) => b.currency)),
		].sort();
		const of = (rows: { currency: string; amount: bigint }[], currency: string) =>
			rows.find((r) => r.currency === currency)?.amount ?? 0n;
		return renderPage(
			c,
			{ title: "Balances", session, section: "balances" },
			<>
				<h1>Balances</h1>
				{currencies.length === 0 ? (
					<p class="empty" id="no-balance">
						No balance yet: it appears with the first payment that succeeds.
					</p>
				) : (
					<table id="balances">
						<thead>
							<tr>
								<th>Currency</th>
								<th class="num">Available</th>
								<th class="num">Pending</th>
							</tr>
						</thead>
						<tbody>
							{currencies.map((cur) => (
								<tr data-currency={cur}>
									<td class="mono">{cur}</td>
									<td class="num">{amountText(of(balance.available, cur), cur)}</td>
									<td class="num">{amountText(of(balance.pending, cur), cur)}</td>
								</tr>
							))}
						</tbody>
					</table>
				)}
				<h2>Conversions</h2>
				{conversions.length === 0 ? (
					<p class="empty">No conversions yet.</p>
				) : (
					<div class="scroll">
						<table id="conversions">
							<thead>
								<tr>
									<th>Conversion</th>
									<th>Payment</th>
									<th>From</th>
									<th>To</th>
									<th>Rate</th>
									<th>Status</th>
									<th>Created</th>
								</tr>
							</thead>
							<tbody>
								{conversions.map((conv) => (
									<tr>
										<td class="mono">{conv.id}</td>
										<td>
											<a class="mono" href={`/dashboard/payments/${conv.payment}`}>
												{conv.payment}
											</a>
										</td>
										<td>
											{conv.from.amount} {conv.from.token} (base units)
										</td>
										<td>{amountText(conv.to.amount, conv.to.token ?? conv.to.currency)}</td>
										<td>{conv.rate ?? "—"}</td>
										<td>
											<Status value={conv.status} />
											{conv.failure_message ? (
												<div class="muted">{conv.failure_message}</div>
											) : null}
										</td>
										<td>{when(conv.created)}</td>
									</tr>
								))}
							</tbody>
						</table>
					</div>
				)}
				{page.has_more ? (
					<nav class="pager">
						<a href={`/dashboard/balances?starting_after=${conversions.at(-1)?.id ?? ""}`}>
							Older conversions →
						</a>
					</nav>
				) : null}
			</>,
		);
	});
}
