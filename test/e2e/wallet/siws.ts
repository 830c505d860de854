import type { SolanaSignInInput } from "@solana/wallet-standard-features";

/**
 * The Sign-In With Solana message text a wallet signs for `solana:signIn`, built the way Phantom
 * builds it: the header and address, the statement, then one line per field that is present.
 * Phantom fills in `domain` (the page's host) and `address` (the connected account) when the
 * input leaves them out; every other absent field's line is omitted.
 */
export function signInMessageText(
	input: SolanaSignInInput,
	defaults: { domain: string; address: string },
): string {
	const domain = input.domain ?? defaults.domain;
	const address = input.address ?? defaults.address;
	let text = `${domain} wants you to sign in with your Solana account:\n${address}`;
	if (input.statement) text += `\n\n${input.statement}`;
	const fields: string[] = [];
	if (input.uri) fields.push(`URI: ${input.uri}`);
	if (input.version) fields.push(`Version: ${input.version}`);
	if (input.chainId) fields.push(`Chain ID: ${input.chainId}`);
	if (input.nonce) fields.push(`Nonce: ${input.nonce}`);
	if (input.issuedAt) fields.push(`Issued At: ${input.issuedAt}`);
	if (input.expirationTime) fields.push(`Expiration Time: ${input.expirationTime}`);
	if (input.notBefore) fields.push(`Not Before: ${input.notBefore}`);
	if (input.requestId) fields.push(`Request ID: ${input.requestId}`);
	if (input.resources && input.resources.length > 0) {
		fields.push("Resources:", ...input.resources.map((r) => `- ${r}`));
	}
	if (fields.length > 0) text += `\n\n${fields.join("\n")}`;
	return text;
}
