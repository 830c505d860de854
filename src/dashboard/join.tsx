import { signUpOpen } from "../config";
import { isId } from "../domain/ids";
import { ROLE_DESCRIPTIONS } from "../domain/roles";
import { type DashboardApp, PageError } from "./context";
import { renderPage } from "./layout";
import { readDashboardSession } from "./session";

// Pages that register a passkey for someone who is not signed in yet: accepting an invitation,
// and self-serve sign-up. The ceremony runs in the page's script (src/client/passkeys.ts); the
// invitation's secret stays in the link's fragment, which the browser never sends to a server.

function RecoveryCodes() {
	return (
		<section class="card" id="recovery-codes-card" hidden>
			<h2>Your recovery codes</h2>
			<p class="notice" role="status">
				Each code signs you in once if you lose your passkey. Store them somewhere safe now: they
				are shown only this once.
			</p>
			<pre class="secret" id="recovery-codes" />
			<div id="test-key-card" hidden>
				<h2>Your test secret key</h2>
				<p class="muted">Shown once. Live keys are on the API keys page, after a passkey check.</p>
				<p class="secret" id="new-test-key" />
			</div>
			<p>
				<a href="/dashboard" id="continue">
					I have saved them: continue to the dashboard
				</a>
			</p>
		</section>
	);
}

export function registerJoin(app: DashboardApp): void {
	app.get("/dashboard/join/:id", async (c) => {
		const id = c.req.param("id");
		if (!isId("invitation", id)) {
			throw new PageError(
				404,
				"Not found",
				"This invitation link is not valid. Ask for a new one.",
			);
		}
		const session = await readDashboardSession(c);
		const signedInAs = session?.subject.kind === "user" ? session.email : null;
		return renderPage(
			c,
			{ title: "Join a team", session: null },
			<>
				<section class="signin card" id="join">
					<h1>Accept your invitation</h1>
					<p class="notice error" role="alert" id="join-error" hidden />
					{signedInAs ? (
						<>
							<p>
								You are signed in as <b>{signedInAs}</b>. Accepting adds this account to your teams,
								if the invitation is for {signedInAs}.
							</p>
							<form
								method="post"
								action="/dashboard/auth/invitations/accept"
								data-passkey="accept"
								data-invitation={id}
								data-csrf={session?.csrf}
							>
								<button type="submit" id="accept-invitation">
									Accept the invitation
								</button>
							</form>
						</>
					) : (
						<>
							<p>
								Register a passkey (your device's fingerprint, face or PIN) to create your account.
								No password. Already have an account? <a href="/dashboard/sign-in">Sign in</a>{" "}
								first, then open the link again.
							</p>
							<form
								method="post"
								action="/dashboard/auth/register/verify"
								data-passkey="register"
								data-kind="invitation"
								data-invitation={id}
							>
								<label for="passkey-name">Name this passkey</label>
								<input id="passkey-name" name="name" value="My passkey" maxlength={60} />
								<button type="submit" id="register-passkey">
									Register a passkey and join
								</button>
							</form>
						</>
					)}
					<details>
						<summary>What the roles can do</summary>
						<dl class="facts">
							{Object.entries(ROLE_DESCRIPTIONS).map(([role, text]) => (
								<>
									<dt>{role}</dt>
									<dd>{text}</dd>
								</>
							))}
						</dl>
					</details>
				</section>
				<RecoveryCodes />
			</>,
		);
	});

	app.get("/dashboard/sign-up", async (c) => {
		if (!signUpOpen(c.env)) {
			throw new PageError(
				404,
				"Sign-up is closed",
				"This gateway does not offer self-serve sign-up. Ask its operator for an invitation.",
			);
		}
		return renderPage(
			c,
			{ title: "Create an account", session: null },
			<>
				<section class="signin card" id="sign-up">
					<h1>Create a StreamPayments account</h1>
					<p class="notice error" role="alert" id="join-error" hidden />
					<p class="muted">
						You become the owner of a new merchant, with test keys at once. Sign-in is with a
						passkey: no password.
					</p>
					<form
						method="post"
						action="/dashboard/auth/register/verify"
						data-passkey="register"
						data-kind="sign_up"
					>
						<label for="sign-up-business">Business name</label>
						<input id="sign-up-business" name="business" required maxlength={100} />
						<label for="sign-up-email">Email</label>
						<input id="sign-up-email" name="email" type="email" autocomplete="username" required />
						<label for="passkey-name">Name this passkey</label>
						<input id="passkey-name" name="name" value="My passkey" maxlength={60} />
						<button type="submit" id="register-passkey">
							Register a passkey and create the account
						</button>
					</form>
				</section>
				<RecoveryCodes />
			</>,
		);
	});
}
