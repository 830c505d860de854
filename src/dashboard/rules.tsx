import { getRiskRules } from "../services/risk";
import { getRoutingRules } from "../services/routing";
import { allow } from "./access";
import { type DashboardApp, sessionOf } from "./context";
import { renderPage, when } from "./layout";

/** A rule's fields other than the ones shown in their own column, as `key: value` lines. */
function rest(rule: Record<string, unknown>, shown: string[]): string {
	return Object.entries(rule)
		.filter(([k]) => !shown.includes(k))
		.map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
		.join("\n");
}

/** The merchant's current risk and routing rules in this mode (read-only; changed through the API). */
export function registerRules(app: DashboardApp): void {
	app.get("/dashboard/rules", allow("rules.read"), async (c) => {
		const session = sessionOf(c);
		const [risk, routing] = await Promise.all([
			getRiskRules(c.env.DB, session),
			getRoutingRules(c.env.DB, session),
		]);
		return renderPage(
			c,
			{ title: "Rules", session, section: "rules" },
			<>
				<h1>Risk and routing rules</h1>
				<p class="muted">
					Read-only. Change them with PUT /v1/risk_rules and PUT /v1/routing_rules.
				</p>
				<section class="card" id="risk-rules">
					<h2>Risk rules</h2>
					<dl class="facts">
						<dt>Review from score</dt>
						<dd id="review-at">{risk.review_at}</dd>
						<dt>Block from score</dt>
						<dd id="block-at">{risk.block_at}</dd>
						<dt>Last changed</dt>
						<dd>{risk.updated === null ? "never (defaults)" : when(risk.updated)}</dd>
					</dl>
					{risk.rules.length === 0 ? (
						<p class="muted">No rules beyond the built-in sanctions screen.</p>
					) : (
						<table>
							<thead>
								<tr>
									<th>Rule</th>
									<th>Kind</th>
									<th>Settings</th>
								</tr>
							</thead>
							<tbody>
								{risk.rules.map((rule) => (
									<tr data-rule={rule.id}>
										<td class="mono">{rule.id}</td>
										<td>{rule.kind.replace(/_/g, " ")}</td>
										<td>
											<pre class="mono">{rest(rule, ["id", "kind"])}</pre>
										</td>
									</tr>
								))}
							</tbody>
						</table>
					)}
				</section>
				<section class="card" id="routing-rules">
					<h2>Routing rules</h2>
					<dl class="facts">
						<dt>Strategy</dt>
						<dd id="strategy">{routing.strategy.replace(/_/g, " ")}</dd>
						<dt>Last changed</dt>
						<dd>{routing.updated === null ? "never (defaults)" : when(routing.updated)}</dd>
					</dl>
					{routing.rules.length === 0 ? (
						<p class="muted">No rules: every method the payment accepts is offered.</p>
					) : (
						<table>
							<thead>
								<tr>
									<th>#</th>
									<th>Rule</th>
									<th>When</th>
									<th>Then</th>
								</tr>
							</thead>
							<tbody>
								{routing.rules.map((rule, i) => (
									<tr data-rule={rule.id}>
										<td class="num">{i + 1}</td>
										<td>
											<span class="mono">{rule.id}</span>
											{rule.description ? <div class="muted">{rule.description}</div> : null}
										</td>
										<td>
											<pre class="mono">{rest(rule.conditions, []) || "always"}</pre>
										</td>
										<td>
											<b>{rule.action.processor}</b>
											<pre class="mono">{rest(rule.action.settings, [])}</pre>
										</td>
									</tr>
								))}
							</tbody>
						</table>
					)}
				</section>
			</>,
		);
	});
}
