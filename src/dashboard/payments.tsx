import type { PaymentObjectJson } from "../domain/payment";
import { PAYMENT_STATUSES } from "../domain/payment-state";
import { allow } from "./access";
import { type DashboardApp, sessionOf } from "./context";
import { money, renderPage, Status, when } from "./layout";
import { METHODS, type PaymentFilters, parseFilters, searchPayments } from "./payments-query";

const SEARCHED_AS = {
	id: "payment id",
	signature: "Solana signature",
	email: "customer email",
	reference: "reference or order id",
} as const;

/** The method that paid, as the table shows it. */
export function methodOf(
	p: Pick<PaymentObjectJson, "solana" | "payment_method_types"> & {
		card?: PaymentObjectJson["card"] | undefined;
		paid_with?: PaymentObjectJson["paid_with"] | undefined;
	},
): string {
	// The method that paid the price; the other one's funds, if any, are held extras.
	if (p.paid_with === "card") return "Card";
	if (p.paid_with === "solana" && p.solana) return `Solana · ${p.solana.token}`;
	if (p.solana?.signature) return `Solana · ${p.solana.token}`;
	if (p.card?.charge) return "Card";
	return p.payment_method_types.join(" / ");
}

/** The filters as a query string, with one cursor; values round-trip exactly. */
function pageLink(query: Record<string, string>, cursor: Record<string, string>): string {
	const params = new URLSearchParams();
	for (const [k, v] of Object.entries(query)) {
		if (v !== "" && k !== "starting_after" && k !== "ending_before") params.set(k, v);
	}
	for (const [k, v] of Object.entries(cursor)) params.set(k, v);
	return `/dashboard/payments?${params.toString()}`;
}

export function registerPaymentPages(app: DashboardApp): void {
	app.get("/dashboard/payments", allow("payments.read"), async (c) => {
		const session = sessionOf(c);
		const query = c.req.query();
		const { filters, problems } = parseFilters(query);
		const page =
			problems.length === 0
				? await searchPayments(c.env, session, filters)
				: { data: [], has_more: false, searchedAs: null };
		const first = page.data[0]?.id;
		const last = page.data.at(-1)?.id;
		const backwards = filters.endingBefore !== undefined;
		const newer =
			first && (backwards ? page.has_more : filters.startingAfter !== undefined)
				? pageLink(query, { ending_before: first })
				: null;
		const older =
			last && (backwards || page.has_more) ? pageLink(query, { starting_after: last }) : null;
		return renderPage(
			c,
			{ title: "Payments", session, section: "payments", status: problems.length ? 400 : 200 },
			<>
				<h1>Payments</h1>
				<Filters filters={filters} query={query} />
				{problems.map((p) => (
					<p class="notice error" role="alert">
						{p.field}: {p.message}
					</p>
				))}
				{page.searchedAs ? (
					<p class="muted" id="searched-as">
						Searched by {SEARCHED_AS[page.searchedAs]}.
					</p>
				) : null}
				{page.data.length === 0 ? (
					<p class="empty" id="no-payments">
						No payments match.
					</p>
				) : (
					<div class="scroll">
						<table id="payments">
							<thead>
								<tr>
									<th>Payment</th>
									<th class="num">Amount</th>
									<th>Status</th>
									<th>Method</th>
									<th>Reference</th>
									<th>Created</th>
								</tr>
							</thead>
							<tbody>
								{page.data.map((p) => (
									<tr data-payment={p.id}>
										<td>
											<a class="mono" href={`/dashboard/payments/${p.id}`}>
												{p.id}
											</a>
										</td>
										<td class="num">{money(p.amount, p.currency)}</td>
										<td>
											<Status value={p.status} />
											{p.refund_status ? (
												<>
													{" "}
													<Status value={p.refund_status} />
												</>
											) : null}
										</td>
										<td>{methodOf(p)}</td>
										<td class="mono">{p.metadata.reference ?? p.metadata.order_id ?? ""}</td>
										<td>{when(p.created)}</td>
									</tr>
								))}
							</tbody>
						</table>
					</div>
				)}
				<nav class="pager" aria-label="Pages">
					{newer ? (
						<a href={newer} id="newer">
							← Newer
						</a>
					) : null}
					{older ? (
						<a href={older} id="older">
							Older →
						</a>
					) : null}
				</nav>
			</>,
		);
	});
}

function Filters(props: { filters: PaymentFilters; query: Record<string, string> }) {
	const q = props.query;
	return (
		<form
			class="filters card"
			method="get"
			action="/dashboard/payments"
			aria-label="Filter payments"
		>
			<div>
				<label for="q">Search</label>
				<input
					id="q"
					name="q"
					size={34}
					value={q.q ?? ""}
					placeholder="pay_…, reference, signature or email"
				/>
			</div>
			<div>
				<label for="status">Status</label>
				<select id="status" name="status">
					<option value="">Any</option>
					{PAYMENT_STATUSES.map((s) => (
						<option value={s} selected={props.filters.status === s}>
							{s.replace(/_/g, " ")}
						</option>
					))}
				</select>
			</div>
			<div>
				<label for="method">Method</label>
				<select id="method" name="method">
					<option value="">Any</option>
					{METHODS.map((m) => (
						<option value={m} selected={props.filters.method === m}>
							{m === "solana" ? "Solana" : "Card"}
						</option>
					))}
				</select>
			</div>
			<div>
				<label for="from">From</label>
				<input id="from" name="from" type="date" value={q.from ?? ""} />
			</div>
			<div>
				<label for="to">To</label>
				<input id="to" name="to" type="date" value={q.to ?? ""} />
			</div>
			<div>
				<label for="amount_min">Min amount (minor units)</label>
				<input
					id="amount_min"
					name="amount_min"
					inputmode="numeric"
					size={10}
					value={q.amount_min ?? ""}
				/>
			</div>
			<div>
				<label for="amount_max">Max amount (minor units)</label>
				<input
					id="amount_max"
					name="amount_max"
					inputmode="numeric"
					size={10}
					value={q.amount_max ?? ""}
				/>
			</div>
			<button type="submit">Apply</button>
			<a href="/dashboard/payments">Clear</a>
		</form>
	);
}
