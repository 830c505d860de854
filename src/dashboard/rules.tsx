import type { z } from "@hono/zod-openapi";
import { RiskConfigSchema } from "../domain/risk";
import { can } from "../domain/roles";
import { RoutingConfigSchema } from "../domain/routing";
import { ApiError } from "../lib/errors";
import { zodToApiError } from "../lib/validation";
import { getRiskRules, replaceRiskRules, toApiRiskRules } from "../services/risk";
import { getRoutingRules, replaceRoutingRules, toApiRoutingRules } from "../services/routing";
import { allow, auditDashboard, sessionAuth, stepUp } from "./access";
import {
	type DashboardApp,
	type DashboardContext,
	field,
	readForm,
	seeOther,
	sessionOf,
} from "./context";
import { Csrf, renderPage, when } from "./layout";
import type { DashboardSession } from "./session";

type RuleSet = "risk" | "routing";

/** A rule set's edit form as last sent, shown again with the reason it was refused. */
interface Refused {
	set: RuleSet;
	text: string;
	error: string;
}

/** The document PUT /v1/risk_rules or /v1/routing_rules takes, as the edit form shows it. */
function documentOf(value: unknown): string {
	return JSON.stringify(value, null, 2);
}

/**
 * The typed JSON, checked by the API's own schema: the config, or the API's message for the
 * first problem (naming the field, as a 400 from the API would).
 */
function parseDocument<S extends z.ZodType>(
	schema: S,
	text: string | undefined,
): { ok: true; config: z.infer<S> } | { ok: false; error: string } {
	if (text === undefined) return { ok: false, error: "The rules document is empty." };
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch (error) {
		return { ok: false, error: `Not valid JSON: ${(error as Error).message}` };
	}
	const parsed = schema.safeParse(value);
	if (!parsed.success) return { ok: false, error: zodToApiError(parsed.error, "json").message };
	return { ok: true, config: parsed.data };
}

function EditForm(props: {
	session: DashboardSession;
	set: RuleSet;
	document: string;
	refused: Refused | undefined;
}) {
	const refused = props.refused?.set === props.set ? props.refused : undefined;
	const api = props.set === "risk" ? "PUT /v1/risk_rules" : "PUT /v1/routing_rules";
	return (
		<form method="post" action={`/dashboard/rules/${props.set}`} id={`${props.set}-form`}>
			<h3>Change</h3>
			<p class="muted">
				The whole document, as {api} takes it: it replaces the current one. Saving asks you to
				confirm with your passkey if you have not in the last five minutes.
			</p>
			{refused ? (
				<p class="notice error" role="alert" id={`${props.set}-error`}>
					{refused.error} Nothing was changed.
				</p>
			) : null}
			<Csrf session={props.session} />
			<label for={`${props.set}-document`}>Rules document (JSON)</label>
			<textarea
				id={`${props.set}-document`}
				name="document"
				class="mono"
				rows={12}
				cols={80}
				spellcheck={false}
			>
				{refused ? refused.text : props.document}
			</textarea>
			<p>
				<button type="submit" id={`${props.set}-submit`}>
					Save {props.set} rules
				</button>
			</p>
		</form>
	);
}

/** A rule's fields other than the ones shown in their own column, as `key: value` lines. */
function rest(rule: Record<string, unknown>, shown: string[]): string {
	return Object.entries(rule)
		.filter(([k]) => !shown.includes(k))
		.map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
		.join("\n");
}

/** The rules page, with an edit form per rule set for roles that may change them. */
async function rulesPage(c: DashboardContext, session: DashboardSession, refused?: Refused) {
	const [risk, routing] = await Promise.all([
		getRiskRules(c.env.DB, session),
		getRoutingRules(c.env.DB, session),
	]);
	const editable = can(session.role, "rules.write");
	const { review_at, block_at, rules: riskRules } = risk;
	const { strategy, rules: routingRules } = routing;
	return renderPage(
		c,
		{ title: "Rules", session, section: "rules", status: refused ? 400 : 200 },
		<>
			<h1>Risk and routing rules</h1>
			<p class="muted">
				{editable
					? "Change them below or with PUT /v1/risk_rules and PUT /v1/routing_rules."
					: "Read-only for your role. Owners and admins change them."}
			</p>
			{c.req.query("saved") === "risk" || c.req.query("saved") === "routing" ? (
				<p class="notice ok" role="status" id="rules-saved">
					Saved the {c.req.query("saved")} rules.
				</p>
			) : null}
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
				{editable ? (
					<EditForm
						session={session}
						set="risk"
						document={documentOf({ review_at, block_at, rules: riskRules })}
						refused={refused}
					/>
				) : null}
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
				{editable ? (
					<EditForm
						session={session}
						set="routing"
						document={documentOf({ strategy, rules: routingRules })}
						refused={refused}
					/>
				) : null}
			</section>
		</>,
	);
}

/** The merchant's risk and routing rules in this mode; owners and admins change them here too. */
export function registerRules(app: DashboardApp): void {
	app.get("/dashboard/rules", allow("rules.read"), (c) => rulesPage(c, sessionOf(c)));

	// The same schemas and services as PUT /v1/risk_rules and /v1/routing_rules (which record the
	// `*_rules.updated` events); a refused document changes nothing and comes back as typed.
	app.post("/dashboard/rules/risk", allow("rules.write"), stepUp(), async (c) => {
		const session = sessionOf(c);
		const text = field(await readForm(c), "document");
		const parsed = parseDocument(RiskConfigSchema, text);
		if (!parsed.ok) {
			return rulesPage(c, session, { set: "risk", text: text ?? "", error: parsed.error });
		}
		const rules = toApiRiskRules(
			await replaceRiskRules(c.env, sessionAuth(session), parsed.config),
			session.livemode,
		);
		await auditDashboard(c.env, session, "risk_rules.updated", null, {
			review_at: rules.review_at,
			block_at: rules.block_at,
			rules: rules.rules,
		});
		return seeOther(c, "/dashboard/rules?saved=risk");
	});

	app.post("/dashboard/rules/routing", allow("rules.write"), stepUp(), async (c) => {
		const session = sessionOf(c);
		const text = field(await readForm(c), "document");
		const parsed = parseDocument(RoutingConfigSchema, text);
		if (!parsed.ok) {
			return rulesPage(c, session, { set: "routing", text: text ?? "", error: parsed.error });
		}
		let record: Awaited<ReturnType<typeof replaceRoutingRules>>;
		try {
			record = await replaceRoutingRules(c.env.DB, sessionAuth(session), parsed.config);
		} catch (error) {
			if (!(error instanceof ApiError) || error.status >= 500) throw error;
			return rulesPage(c, session, { set: "routing", text: text ?? "", error: error.message });
		}
		const rules = toApiRoutingRules(record, session.livemode);
		await auditDashboard(c.env, session, "routing_rules.updated", null, {
			strategy: rules.strategy,
			rules: rules.rules,
		});
		return seeOther(c, "/dashboard/rules?saved=routing");
	});
}
