import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { ADMIN_TOKEN, createMerchant } from "./helpers/api";

// Invitations go out through Cloudflare's Email Workers binding (`SEND_EMAIL`) where one is
// configured. The suite has none, so these tests hand the Worker an env with a stand-in binding
// that keeps what `send()` is given.

const FROM = "dashboard@pay.example.com";

interface Sent {
	from: string;
	to: string;
	raw: string;
}

/** A `send_email` binding that records each message instead of sending it. */
function recordingBinding() {
	const sent: Sent[] = [];
	const binding = {
		async send(message: EmailMessage) {
			sent.push({ from: message.from, to: message.to, raw: await rawText(rawOf(message)) });
		},
	};
	return { sent, binding: binding as unknown as SendEmail };
}

/**
 * The message's raw MIME text. workerd's EmailMessage keeps it in an own property it names
 * `EmailMessage::raw` (not a public field); `raw` too, should it become one.
 */
function rawOf(message: EmailMessage): unknown {
	const entry = Object.entries(message).find(([k]) => k === "raw" || k.endsWith("::raw"));
	if (!entry) throw new Error("the EmailMessage carries no raw message");
	return entry[1];
}

async function rawText(raw: unknown): Promise<string> {
	if (typeof raw === "string") return raw;
	if (raw instanceof ReadableStream) return new Response(raw).text();
	return String(raw);
}

/** The message body: the header block, then base64 (wrapped at 76) of the text. */
function bodyOf(raw: string): string {
	const body = raw.slice(raw.indexOf("\r\n\r\n") + 4).replace(/\r\n/g, "");
	const bytes = Uint8Array.from(atob(body), (ch) => ch.charCodeAt(0));
	return new TextDecoder().decode(bytes);
}

/** Sends an admin request to the Worker with `extra` bindings on top of the suite's env. */
async function adminCall(path: string, body: unknown, extra: Record<string, unknown>) {
	const ctx = createExecutionContext();
	const res = await worker.fetch(
		new Request(`http://gateway.test${path}`, {
			method: "POST",
			headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
			body: JSON.stringify(body),
		}),
		{ ...env, ...extra } as typeof env,
		ctx,
	);
	await waitOnExecutionContext(ctx);
	return res;
}

describe("invitation email", () => {
	it("is sent through SEND_EMAIL from EMAIL_FROM to the invited person, with the link", async () => {
		const m = await createMerchant("Mail Bakery");
		const { sent, binding } = recordingBinding();
		const res = await adminCall(
			`/admin/v1/merchants/${m.merchant.id}/invitations`,
			{ email: "Ana@Mail.example", role: "analyst" },
			{ SEND_EMAIL: binding, EMAIL_FROM: FROM },
		);
		expect(res.status, await res.clone().text()).toBe(201);
		const created = await res.json<{ url: string; emailed: boolean }>();
		expect(created.emailed).toBe(true);
		expect(sent).toHaveLength(1);
		const [message] = sent as [Sent];
		expect(message.to).toBe("ana@mail.example");
		expect(message.from).toBe(FROM);
		expect(message.raw).toContain(`From: StreamPayments <${FROM}>`);
		expect(message.raw).toContain("To: <ana@mail.example>");
		const text = bodyOf(message.raw);
		expect(text).toContain(created.url);
		expect(text).toContain("Mail Bakery");
		expect(text).toContain("as analyst");
	});

	it("is sent for the owner invitation of a merchant created with owner_email", async () => {
		const { sent, binding } = recordingBinding();
		const res = await adminCall(
			"/admin/v1/merchants",
			{ name: "Mail Roastery", owner_email: "owner@roastery.example" },
			{ SEND_EMAIL: binding, EMAIL_FROM: FROM },
		);
		expect(res.status, await res.clone().text()).toBe(201);
		const created = await res.json<{ owner_invitation: { url: string; emailed: boolean } }>();
		expect(created.owner_invitation.emailed).toBe(true);
		expect(sent.map((s) => [s.from, s.to])).toEqual([[FROM, "owner@roastery.example"]]);
		expect(bodyOf((sent[0] as Sent).raw)).toContain(created.owner_invitation.url);
	});

	it("sends nothing without the binding, or without EMAIL_FROM; the link is only in the answer", async () => {
		const m = await createMerchant("Quiet Bakery");
		const { sent, binding } = recordingBinding();
		const withoutFrom = await adminCall(
			`/admin/v1/merchants/${m.merchant.id}/invitations`,
			{ email: "bo@quiet.example", role: "support" },
			{ SEND_EMAIL: binding, EMAIL_FROM: undefined },
		);
		expect(withoutFrom.status).toBe(201);
		expect((await withoutFrom.json<{ emailed: boolean }>()).emailed).toBe(false);
		const withoutBinding = await adminCall(
			`/admin/v1/merchants/${m.merchant.id}/invitations`,
			{ email: "cy@quiet.example", role: "support" },
			{ SEND_EMAIL: undefined, EMAIL_FROM: FROM },
		);
		expect(withoutBinding.status).toBe(201);
		const body = await withoutBinding.json<{ emailed: boolean; url: string }>();
		expect(body.emailed).toBe(false);
		expect(body.url).toMatch(/\/dashboard\/join\/inv_\w+#\w+$/);
		expect(sent).toHaveLength(0);
	});
});
