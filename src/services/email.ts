import { EmailMessage } from "cloudflare:email";
import type { Env } from "../env";

/**
 * Sends a plain-text email through Cloudflare Email Workers' `send_email` binding (`SEND_EMAIL`),
 * from `EMAIL_FROM`. Returns false, sending nothing, when either is not configured; the caller
 * then shows what it would have sent.
 */
export async function sendEmail(
	env: Pick<Env, "SEND_EMAIL" | "EMAIL_FROM">,
	message: { to: string; subject: string; text: string },
): Promise<boolean> {
	if (!env.SEND_EMAIL || !env.EMAIL_FROM) return false;
	const from = env.EMAIL_FROM;
	const domain = from.slice(from.indexOf("@") + 1) || "streampayments.invalid";
	// Email Workers require a Message-ID; headers are ASCII, so the subject is encoded (RFC 2047).
	const raw = [
		`From: StreamPayments <${from}>`,
		`To: <${message.to}>`,
		`Subject: =?utf-8?B?${base64Utf8(message.subject)}?=`,
		`Message-ID: <${crypto.randomUUID()}@${domain}>`,
		`Date: ${new Date().toUTCString()}`,
		"MIME-Version: 1.0",
		"Content-Type: text/plain; charset=utf-8",
		"Content-Transfer-Encoding: base64",
		"",
		base64Utf8(message.text).replace(/.{76}/g, "$&\r\n"),
	].join("\r\n");
	await env.SEND_EMAIL.send(new EmailMessage(from, message.to, raw));
	return true;
}

function base64Utf8(text: string): string {
	let binary = "";
	for (const b of new TextEncoder().encode(text)) binary += String.fromCharCode(b);
	return btoa(binary);
}
