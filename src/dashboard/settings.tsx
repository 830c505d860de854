import { formatMinorUnits, MoneyError, parseDecimal } from "../domain/money";
import { getTeamSettings, setRefundStepUp } from "../services/team";
import { allow, auditDashboard, stepUp } from "./access";
import { type DashboardApp, field, PageError, readForm, seeOther, sessionOf } from "./context";
import { Csrf, renderPage, when } from "./layout";

const CURRENCY = /^[a-z]{3}$/;

/** Dashboard settings: the refund amount above which a refund needs a fresh passkey check. */
export function registerSettingsPages(app: DashboardApp): void {
	app.get("/dashboard/settings", allow("settings.read"), async (c) => {
		const session = sessionOf(c);
		const settings = await getTeamSettings(c.env.DB, session.merchantId);
		const threshold = settings.refundStepUp;
		return renderPage(
			c,
			{ title: "Settings", session, section: "settings" },
			<>
				<h1>Settings</h1>
				{c.req.query("saved") !== undefined ? (
					<p class="notice ok" role="status" id="settings-saved">
						Saved.
					</p>
				) : null}
				<form method="post" action="/dashboard/settings" class="card" id="settings-form">
					<h2>Refunds that need a passkey check</h2>
					<p class="muted">
						Refunds from the dashboard above this amount (and in any other currency) ask for a
						passkey assertion within the last five minutes. Empty: no refund asks. Now:{" "}
						<b id="refund-step-up">
							{threshold
								? `above ${formatMinorUnits(threshold.amount, threshold.currency)} ${threshold.currency.toUpperCase()}`
								: "none"}
						</b>
						{settings.updated ? ` (changed ${when(settings.updated)})` : ""}.
					</p>
					<Csrf session={session} />
					<label for="refund-step-up-amount">Amount</label>
					<input
						id="refund-step-up-amount"
						name="amount"
						inputmode="decimal"
						value={threshold ? formatMinorUnits(threshold.amount, threshold.currency) : ""}
					/>
					<label for="refund-step-up-currency">Currency</label>
					<input
						id="refund-step-up-currency"
						name="currency"
						maxlength={3}
						value={threshold?.currency ?? "usd"}
					/>
					<p>
						<button type="submit" id="settings-submit">
							Save
						</button>
					</p>
				</form>
			</>,
		);
	});

	app.post("/dashboard/settings", allow("settings.write"), stepUp(), async (c) => {
		const session = sessionOf(c);
		const form = await readForm(c);
		const typed = field(form, "amount");
		const currency = (field(form, "currency") ?? "").toLowerCase();
		let threshold: { amount: number; currency: string } | null = null;
		if (typed !== undefined) {
			if (!CURRENCY.test(currency)) {
				throw new PageError(400, "Check the form", "The currency is three letters, e.g. usd.");
			}
			try {
				threshold = { amount: Number(parseDecimal(typed, currency)), currency };
			} catch (error) {
				if (!(error instanceof MoneyError)) throw error;
				throw new PageError(
					400,
					"Check the form",
					`'${typed.slice(0, 40)}' is not an amount in ${currency.toUpperCase()}.`,
				);
			}
			if (threshold.amount < 0)
				throw new PageError(400, "Check the form", "The amount cannot be negative.");
		}
		await setRefundStepUp(c.env.DB, session.merchantId, threshold);
		await auditDashboard(c.env, session, "settings.updated", session.merchantId, {
			refund_step_up: threshold,
		});
		return seeOther(c, "/dashboard/settings?saved=1");
	});
}
