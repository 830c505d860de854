import { isAddress } from "@solana/kit";
import { isId } from "../domain/ids";
import { ownerOf } from "../domain/owner";
import type { PayoutDestinationRow } from "../domain/payout-destination";
import { can } from "../domain/roles";
import { ApiError } from "../lib/errors";
import {
	addWalletDestination,
	createProofChallenge,
	loadDestination,
	makeDefaultDestination,
	removePayoutDestination,
} from "../services/payout-destinations";
import { addStripeDestination, onboardingLink } from "../services/payout-destinations-connect";
import { actorOf, allow, stepUp } from "./access";
import {
	type DashboardApp,
	type DashboardContext,
	field,
	PageError,
	readForm,
	seeOther,
	sessionOf,
} from "./context";
import { newFormToken, onceByFormToken } from "./form-once";
import { ActionButton, Csrf, Status, when } from "./layout";
import type { DashboardSession } from "./session";

// Payout destinations on the dashboard's Payouts page: the list, adding a wallet (the page's
// script asks the connected Wallet Standard wallet to sign the gateway's message), starting
// Stripe Connect onboarding, making one the default and removing one. Every change needs a
// passkey check within five minutes and is announced by event and audit log by the service.

export const PAYOUTS_PAGE = "/dashboard/payouts";

function describe(d: PayoutDestinationRow): string {
	return d.type === "solana_wallet" ? "Solana wallet" : "Stripe account";
}

/** The destinations table and the forms that change it (for roles that may). */
export function DestinationsSection(props: {
	session: DashboardSession;
	destinations: PayoutDestinationRow[];
	now: number;
	error?: string | undefined;
}) {
	const { session, destinations, now } = props;
	const write = can(session.role, "payouts.write");
	return (
		<section class="card" id="destinations">
			<h2>Destinations</h2>
			<p class="muted">
				Token payouts go on chain to a wallet you proved you own; fiat payouts go to a Stripe
				connected account.
				{session.livemode
					? " In live mode a new destination, or one made default, receives no payout until its cooling-off period ends."
					: " Test mode has no cooling-off period."}
			</p>
			{props.error ? (
				<p class="notice error" role="alert" id="destination-error">
					{props.error}
				</p>
			) : null}
			{destinations.length === 0 ? (
				<p class="empty" id="no-destinations">
					No payout destinations yet.
				</p>
			) : (
				<table id="destination-list">
					<thead>
						<tr>
							<th>Destination</th>
							<th>Kind</th>
							<th>Status</th>
							<th>Usable</th>
							<th />
						</tr>
					</thead>
					<tbody>
						{destinations.map((d) => (
							<tr data-destination={d.id}>
								<td>
									<span class="mono">{d.address ?? d.stripe_account_id}</span>
									<br />
									<span class="mono muted">{d.id}</span>
									{d.is_default === 1 ? (
										<>
											{" "}
											<b class="default">default</b>
										</>
									) : null}
								</td>
								<td>{describe(d)}</td>
								<td>
									<Status value={d.status} />
								</td>
								<td>{d.usable_after > now ? `after ${when(d.usable_after)}` : "now"}</td>
								<td>
									{write ? (
										<span class="inline">
											{d.status === "onboarding" ? (
												<a
													href={`${PAYOUTS_PAGE}/destinations/${d.id}/onboard`}
													id={`onboard-${d.id}`}
												>
													Continue onboarding
												</a>
											) : null}
											{d.is_default === 1 ? null : (
												<ActionButton
													session={session}
													action={`${PAYOUTS_PAGE}/destinations/${d.id}/default`}
													label="Make default"
													kind="secondary"
												/>
											)}
											<ActionButton
												session={session}
												action={`${PAYOUTS_PAGE}/destinations/${d.id}/remove`}
												label="Remove"
											/>
										</span>
									) : null}
								</td>
							</tr>
						))}
					</tbody>
				</table>
			)}
			{write ? (
				<>
					<form
						method="post"
						action={`${PAYOUTS_PAGE}/destinations/wallet`}
						id="wallet-form"
						data-wallet-proof={`${PAYOUTS_PAGE}/destinations/challenge`}
					>
						<h3>Add a wallet</h3>
						<p class="muted">
							Your wallet signs a message from this gateway (no transaction, no fee), proving it is
							yours. Adding a destination asks for your passkey if you have not confirmed in the
							last five minutes.
						</p>
						<p class="notice error" role="alert" id="wallet-error" hidden />
						<Csrf session={session} />
						<input type="hidden" name="form_token" value={newFormToken()} />
						<input type="hidden" name="address" value="" />
						<input type="hidden" name="message" value="" />
						<input type="hidden" name="signature" value="" />
						<button type="submit" id="wallet-add">
							Connect a wallet and sign
						</button>
					</form>
					<form method="post" action={`${PAYOUTS_PAGE}/destinations/stripe`} id="stripe-form">
						<h3>Add a bank account through Stripe</h3>
						<p class="muted">
							Creates a Stripe Express account for fiat payouts; Stripe asks for the bank details.
						</p>
						<Csrf session={session} />
						<input type="hidden" name="form_token" value={newFormToken()} />
						<button type="submit" class="secondary" id="stripe-add">
							Start Stripe onboarding
						</button>
					</form>
				</>
			) : null}
		</section>
	);
}

/** A refusal the page shows beside the destinations (the service's own message). */
export class DestinationRefused extends Error {
	constructor(
		readonly status: 400 | 404 | 409 | 422,
		message: string,
	) {
		super(message);
	}
}

function refused(error: unknown): never {
	if (error instanceof ApiError && error.status < 500) {
		const status = error.status === 404 ? 404 : error.status === 409 ? 409 : 400;
		throw new DestinationRefused(status, error.message);
	}
	throw error;
}

function destinationId(c: DashboardContext): string {
	const id = c.req.param("id") ?? "";
	if (!isId("payoutDestination", id)) {
		throw new PageError(404, "Not found", "There is no such payout destination.");
	}
	return id;
}

/**
 * The destination actions under /dashboard/payouts/destinations. `renderPayouts` draws the
 * Payouts page again with a refusal beside the destinations.
 */
export function registerPayoutDestinationActions(
	app: DashboardApp,
	renderPayouts: (c: DashboardContext, error: DestinationRefused) => Promise<Response> | Response,
): void {
	const onRefusal = async (c: DashboardContext, run: () => Promise<Response>) => {
		try {
			return await run();
		} catch (error) {
			if (error instanceof DestinationRefused) return renderPayouts(c, error);
			throw error;
		}
	};

	// The page's script asks for the message its wallet signs (no step-up: issuing one changes
	// nothing; the proof itself is the change).
	app.post(`${PAYOUTS_PAGE}/destinations/challenge`, allow("payouts.write"), async (c) => {
		const session = sessionOf(c);
		const address = field(await readForm(c), "address") ?? "";
		if (!isAddress(address)) {
			throw new ApiError("parameter_invalid", "The wallet's address is not a Solana address.");
		}
		const challenge = await createProofChallenge(c.env, ownerOf(session), address);
		c.header("Cache-Control", "no-store");
		return c.json(challenge);
	});

	app.post(`${PAYOUTS_PAGE}/destinations/wallet`, allow("payouts.write"), stepUp(), (c) =>
		onRefusal(c, async () => {
			const session = sessionOf(c);
			const form = await readForm(c);
			const proof = {
				address: field(form, "address") ?? "",
				// Browsers send a form's line breaks as CRLF; the issued message has LF only.
				message: (form.get("message") ?? "").replace(/\r\n/g, "\n"),
				signature: field(form, "signature") ?? "",
			};
			if (!proof.address || !proof.message || !proof.signature) {
				throw new DestinationRefused(
					400,
					"The wallet did not sign: connect a wallet and sign the message (the page's script does it).",
				);
			}
			if (!isAddress(proof.address)) {
				throw new DestinationRefused(400, "The wallet's address is not a Solana address.");
			}
			await onceByFormToken(
				c.env,
				session,
				{
					kind: "payout_destination",
					formToken: field(form, "form_token"),
					request: `${proof.address}\n${proof.message}`,
				},
				async () =>
					(
						await addWalletDestination(c.env, ownerOf(session), actorOf(session), proof).catch(
							refused,
						)
					).id,
			);
			return seeOther(c, `${PAYOUTS_PAGE}?added=wallet`);
		}),
	);

	app.post(`${PAYOUTS_PAGE}/destinations/stripe`, allow("payouts.write"), stepUp(), (c) =>
		onRefusal(c, async () => {
			const session = sessionOf(c);
			const form = await readForm(c);
			const outcome = await onceByFormToken(
				c.env,
				session,
				{ kind: "payout_destination_stripe", formToken: field(form, "form_token"), request: "" },
				async () =>
					(await addStripeDestination(c.env, ownerOf(session), actorOf(session)).catch(refused))
						.destination.id,
			);
			if (outcome.state === "in_progress") return seeOther(c, PAYOUTS_PAGE);
			// A fresh link on the next GET: a form may not redirect off this origin (CSP form-action).
			return seeOther(c, `${PAYOUTS_PAGE}/destinations/${outcome.id}/onboard`);
		}),
	);

	// Mints an onboarding link and sends the browser to Stripe (a GET: links expire in minutes).
	app.get(`${PAYOUTS_PAGE}/destinations/:id/onboard`, allow("payouts.write"), (c) =>
		onRefusal(c, async () => {
			const session = sessionOf(c);
			const row = await loadDestination(c.env, ownerOf(session), destinationId(c)).catch(refused);
			const url = await onboardingLink(c.env, row).catch(refused);
			c.header("Cache-Control", "no-store");
			return c.redirect(url, 303);
		}),
	);

	app.post(`${PAYOUTS_PAGE}/destinations/:id/default`, allow("payouts.write"), stepUp(), (c) =>
		onRefusal(c, async () => {
			const session = sessionOf(c);
			await makeDefaultDestination(
				c.env,
				ownerOf(session),
				actorOf(session),
				destinationId(c),
			).catch(refused);
			return seeOther(c, `${PAYOUTS_PAGE}?updated=destination`);
		}),
	);

	app.post(`${PAYOUTS_PAGE}/destinations/:id/remove`, allow("payouts.write"), stepUp(), (c) =>
		onRefusal(c, async () => {
			const session = sessionOf(c);
			await removePayoutDestination(
				c.env,
				ownerOf(session),
				actorOf(session),
				destinationId(c),
			).catch(refused);
			return seeOther(c, `${PAYOUTS_PAGE}?removed=destination`);
		}),
	);
}
