import { listPayoutDestinations } from "../services/payout-destinations";
import { allow } from "./access";
import { type DashboardApp, type DashboardContext, sessionOf } from "./context";
import { renderPage } from "./layout";
import {
	type DestinationRefused,
	DestinationsSection,
	PAYOUTS_PAGE,
	registerPayoutDestinationActions,
} from "./payout-destinations";

const NOTICES: Record<string, string> = {
	added: "Payout destination added.",
	updated: "Default payout destination changed.",
	removed: "Payout destination removed.",
};

/** The Payouts page: destinations (and their forms). */
async function payoutsPage(c: DashboardContext, refusal?: DestinationRefused) {
	const session = sessionOf(c);
	const owner = { merchantId: session.merchantId, livemode: session.livemode };
	const destinations = await listPayoutDestinations(c.env, owner);
	const now = Math.floor(Date.now() / 1000);
	const notice = Object.keys(NOTICES).find((k) => c.req.query(k) !== undefined);
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
				error={refusal?.message}
			/>
		</>,
	);
}

/** /dashboard/payouts: where a merchant's money goes, and the payouts that took it there. */
export function registerPayoutsPages(app: DashboardApp): void {
	app.get(PAYOUTS_PAGE, allow("payouts.read"), (c) => payoutsPage(c));
	registerPayoutDestinationActions(app, payoutsPage);
}
