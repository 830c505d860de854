/**
 * The dashboard's passkey ceremonies: forms marked `data-passkey` run WebAuthn through the
 * browser's own `navigator.credentials` (via @simplewebauthn/browser) against
 * /dashboard/auth/*, whose challenges are made and kept by the server.
 */
import { startAuthentication, startRegistration } from "@simplewebauthn/browser";

interface ApiErrorBody {
	error?: { message?: string };
}

async function post<T>(path: string, body: unknown, csrf?: string): Promise<T> {
	const headers: Record<string, string> = { "Content-Type": "application/json" };
	if (csrf) headers["X-CSRF-Token"] = csrf;
	const res = await fetch(path, {
		method: "POST",
		headers,
		body: JSON.stringify(body),
		credentials: "same-origin",
	});
	const json = (await res.json().catch(() => ({}))) as T & ApiErrorBody;
	if (!res.ok) throw new Error(json.error?.message ?? `The gateway answered ${res.status}.`);
	return json;
}

function value(form: HTMLFormElement, name: string): string {
	const input = form.elements.namedItem(name);
	return input instanceof HTMLInputElement ? input.value.trim() : "";
}

function showError(form: HTMLFormElement, message: string): void {
	const alert =
		form.closest("section")?.querySelector<HTMLElement>("[role=alert]") ??
		document.querySelector<HTMLElement>("#join-error, #sign-in-error");
	if (!alert) return;
	alert.textContent = message;
	alert.hidden = false;
}

function errorText(error: unknown): string {
	if (error instanceof Error && error.name === "NotAllowedError") {
		return "The passkey prompt was closed or timed out. Try again.";
	}
	return error instanceof Error ? error.message : String(error);
}

/** The invitation's secret: in the link's fragment, which never leaves the browser but here. */
function invitationToken(): string {
	return decodeURIComponent(window.location.hash.slice(1));
}

async function signIn(form: HTMLFormElement): Promise<void> {
	const { challenge_id, options } = await post<{ challenge_id: string; options: never }>(
		"/dashboard/auth/sign-in/options",
		{},
	);
	const response = await startAuthentication({ optionsJSON: options });
	const { redirect } = await post<{ redirect: string }>("/dashboard/auth/sign-in/verify", {
		challenge_id,
		response,
		next: value(form, "next"),
	});
	window.location.assign(redirect);
}

/** A passkey assertion for this session (step-up), without resending any form. */
async function assertForSession(csrf: string | undefined): Promise<void> {
	const { challenge_id, options } = await post<{ challenge_id: string; options: never }>(
		"/dashboard/auth/step-up/options",
		{},
		csrf,
	);
	const response = await startAuthentication({ optionsJSON: options });
	await post("/dashboard/auth/step-up/verify", { challenge_id, response }, csrf);
}

async function register(form: HTMLFormElement): Promise<void> {
	const kind = form.dataset.kind;
	const csrf = form.dataset.csrf;
	// Adding a passkey to an account asks for one of its passkeys first (the page says when).
	if (kind === "add" && form.dataset.stepUp === "1") await assertForSession(csrf);
	const { challenge_id, options } = await post<{ challenge_id: string; options: never }>(
		"/dashboard/auth/register/options",
		{
			kind,
			...(kind === "invitation"
				? { invitation: form.dataset.invitation, token: invitationToken() }
				: {}),
			...(kind === "sign_up"
				? { email: value(form, "email"), business: value(form, "business") }
				: {}),
		},
		csrf,
	);
	const response = await startRegistration({ optionsJSON: options });
	const result = await post<{
		redirect: string;
		recovery_codes: string[] | null;
		test_secret_key?: string | null;
	}>(
		"/dashboard/auth/register/verify",
		{ challenge_id, response, name: value(form, "name") },
		csrf,
	);
	const card = document.getElementById("recovery-codes-card");
	if (!result.recovery_codes || !card) {
		window.location.assign(result.redirect);
		return;
	}
	// Shown once, in this page only: the server keeps hashes.
	form.closest("section")?.setAttribute("hidden", "");
	(document.getElementById("recovery-codes") as HTMLElement).textContent =
		result.recovery_codes.join("\n");
	if (result.test_secret_key) {
		(document.getElementById("new-test-key") as HTMLElement).textContent = result.test_secret_key;
		(document.getElementById("test-key-card") as HTMLElement).hidden = false;
	}
	card.hidden = false;
	history.replaceState(null, "", window.location.pathname);
}

async function accept(form: HTMLFormElement): Promise<void> {
	const { redirect } = await post<{ redirect: string }>(
		"/dashboard/auth/invitations/accept",
		{ invitation: form.dataset.invitation, token: invitationToken() },
		form.dataset.csrf,
	);
	window.location.assign(redirect);
}

async function stepUp(form: HTMLFormElement): Promise<void> {
	await assertForSession(form.dataset.csrf);
	// The original action, as it was filled in (submit() fires no submit event: no loop).
	form.submit();
}

const CEREMONIES: Record<string, (form: HTMLFormElement) => Promise<void>> = {
	"sign-in": signIn,
	register,
	accept,
	"step-up": stepUp,
};

export function wirePasskeyForms(): void {
	for (const form of Array.from(document.querySelectorAll<HTMLFormElement>("form[data-passkey]"))) {
		const run = CEREMONIES[form.dataset.passkey ?? ""];
		if (!run) continue;
		form.addEventListener("submit", (event) => {
			event.preventDefault();
			const buttons = Array.from(form.querySelectorAll("button"));
			for (const b of buttons) b.disabled = true;
			run(form)
				.catch((error: unknown) => showError(form, errorText(error)))
				.finally(() => {
					for (const b of buttons) b.disabled = false;
				});
		});
	}
}
