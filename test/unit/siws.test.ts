import { getAddressDecoder } from "@solana/kit";
import { beforeAll, describe, expect, it } from "vitest";
import {
	CLOCK_SKEW_MS,
	chainIdForCluster,
	checkSignIn,
	createSignInInput,
	formatSignInMessage,
	parseSignInMessage,
	type SignInFields,
	type SignInInput,
	verifyEd25519,
} from "../../src/domain/siws";

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const DOMAIN = "pay.example.com";

interface Wallet {
	address: string;
	publicKey: Uint8Array;
	sign(message: Uint8Array): Promise<Uint8Array>;
}

async function newWallet(): Promise<Wallet> {
	const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
		"sign",
		"verify",
	])) as CryptoKeyPair;
	const publicKey = new Uint8Array(
		(await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer,
	);
	return {
		address: getAddressDecoder().decode(publicKey),
		publicKey,
		sign: async (message) =>
			new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, message)),
	};
}

function inputFor(address: string, overrides: Partial<SignInInput> = {}): SignInInput {
	return {
		...createSignInInput({
			domain: DOMAIN,
			address,
			statement: "Sign in to pay Acme with this wallet.",
			uri: "https://pay.example.com/checkout/pay_01",
			chainId: "mainnet",
			nonce: "k3Jd8sQ2mZ7xW1pL0aBcDe",
			now: NOW,
			ttlMs: 5 * 60 * 1000,
		}),
		...overrides,
	};
}

const encode = (text: string) => new TextEncoder().encode(text);

let wallet: Wallet;
let other: Wallet;

beforeAll(async () => {
	wallet = await newWallet();
	other = await newWallet();
});

async function check(
	message: string | Uint8Array,
	options: { signer?: Wallet; publicKey?: Uint8Array; now?: number; signature?: Uint8Array } = {},
) {
	const bytes = typeof message === "string" ? encode(message) : message;
	return checkSignIn({
		signedMessage: bytes,
		signature: options.signature ?? (await (options.signer ?? wallet).sign(bytes)),
		publicKey: options.publicKey ?? wallet.publicKey,
		expected: { domain: DOMAIN, address: wallet.address, chainId: "mainnet" },
		now: options.now ?? NOW + 1000,
	});
}

describe("SIWS message format", () => {
	it("prints the Wallet Standard text, field by field", () => {
		const input = inputFor("AddrAddrAddr");
		expect(formatSignInMessage(input)).toBe(
			[
				"pay.example.com wants you to sign in with your Solana account:",
				"AddrAddrAddr",
				"",
				"Sign in to pay Acme with this wallet.",
				"",
				"URI: https://pay.example.com/checkout/pay_01",
				"Version: 1",
				"Chain ID: mainnet",
				"Nonce: k3Jd8sQ2mZ7xW1pL0aBcDe",
				"Issued At: 2026-11-25T12:00:00.000Z",
				"Expiration Time: 2026-11-25T12:05:00.000Z",
			].join("\n"),
		);
	});

	it("round-trips every field, optional ones included", () => {
		const full: SignInFields = {
			...inputFor("AddrAddrAddr"),
			notBefore: "2026-11-25T12:00:00.000Z",
			requestId: "req-1",
			resources: ["https://example.com/a", "ipfs://b"],
		};
		const text = formatSignInMessage(full);
		expect(parseSignInMessage(text)).toEqual(full);
		expect(formatSignInMessage(parseSignInMessage(text) as SignInFields)).toBe(text);
	});

	it("parses the minimal forms: domain and address, with a statement, with fields only", () => {
		const minimal = { domain: "a.example", address: "A" };
		expect(parseSignInMessage(formatSignInMessage(minimal))).toEqual(minimal);
		const withStatement = { ...minimal, statement: "Hello" };
		expect(parseSignInMessage(formatSignInMessage(withStatement))).toEqual(withStatement);
		const fieldsOnly = { ...minimal, nonce: "abcdefgh1" };
		expect(parseSignInMessage(formatSignInMessage(fieldsOnly))).toEqual(fieldsOnly);
	});

	it("refuses text that is not exactly one SIWS message", () => {
		const text = formatSignInMessage(inputFor("AddrAddrAddr"));
		const refused = [
			"",
			text.replace("wants you to sign in with your Solana account", "wants you to sign in"),
			text.replace("Solana account", "Ethereum account"),
			`${text}\n`,
			`${text}\nNonce: again`,
			text.replace("Version: 1\nChain ID: mainnet", "Chain ID: mainnet\nVersion: 1"),
			text.replace("Nonce: ", "Nonce:"),
			text.replace("\n\nSign in", "\n\nSign\nin"),
			text.replace("\n\nURI", "\n\n\nURI"),
			`${text}\nResources:`,
			text.replace("AddrAddrAddr", "Addr Addr"),
			text.replace("pay.example.com wants", " wants"),
			`${text}\n\nmore`,
			text.replaceAll("\n", "\r\n"),
		];
		for (const bad of refused) expect(parseSignInMessage(bad), JSON.stringify(bad)).toBeNull();
	});

	it("names chains as wallets do: mainnet-beta is mainnet, the default", () => {
		expect(chainIdForCluster("mainnet-beta")).toBe("mainnet");
		expect(chainIdForCluster(undefined)).toBe("mainnet");
		expect(chainIdForCluster("devnet")).toBe("devnet");
		expect(chainIdForCluster("testnet")).toBe("testnet");
		expect(chainIdForCluster("localnet")).toBe("localnet");
	});
});

describe("checkSignIn", () => {
	it("accepts the issued message signed by the address's key and returns its nonce", async () => {
		const input = inputFor(wallet.address);
		const result = await check(formatSignInMessage(input));
		expect(result).toEqual({ ok: true, fields: input });
	});

	it("refuses a message that does not parse or is not UTF-8", async () => {
		expect(await check("hello")).toMatchObject({ ok: false, reason: "malformed" });
		expect(await check(new Uint8Array([0xff, 0xfe, 0x00]))).toMatchObject({
			ok: false,
			reason: "malformed",
		});
	});

	it("refuses a message without a nonce, times or version 1", async () => {
		for (const missing of ["nonce", "issuedAt", "expirationTime", "version"] as const) {
			const fields: SignInFields = { ...inputFor(wallet.address) };
			delete fields[missing];
			expect(await check(formatSignInMessage(fields)), missing).toMatchObject({
				ok: false,
				reason: "malformed",
			});
		}
		const v2 = formatSignInMessage({ ...inputFor(wallet.address), version: "2" as "1" });
		expect(await check(v2)).toMatchObject({ ok: false, reason: "malformed" });
		const badTime = formatSignInMessage({ ...inputFor(wallet.address), issuedAt: "yesterday" });
		expect(await check(badTime)).toMatchObject({ ok: false, reason: "malformed" });
	});

	it("refuses another domain", async () => {
		const text = formatSignInMessage(inputFor(wallet.address, { domain: "evil.example" }));
		expect(await check(text)).toMatchObject({ ok: false, reason: "domain_mismatch" });
	});

	it("refuses a message naming another address than the one signing in", async () => {
		const text = formatSignInMessage(inputFor(other.address));
		expect(await check(text)).toMatchObject({ ok: false, reason: "address_mismatch" });
	});

	it("refuses another chain", async () => {
		const text = formatSignInMessage(inputFor(wallet.address, { chainId: "devnet" }));
		expect(await check(text)).toMatchObject({ ok: false, reason: "chain_mismatch" });
	});

	it("refuses an expired message, to the millisecond", async () => {
		const text = formatSignInMessage(inputFor(wallet.address));
		const expiry = NOW + 5 * 60 * 1000;
		expect((await check(text, { now: expiry - 1 })).ok).toBe(true);
		expect(await check(text, { now: expiry })).toMatchObject({ ok: false, reason: "expired" });
	});

	it("allows 60 s of clock skew on Issued At and Not Before, no more", async () => {
		const text = formatSignInMessage(inputFor(wallet.address));
		expect((await check(text, { now: NOW - CLOCK_SKEW_MS })).ok).toBe(true);
		expect(await check(text, { now: NOW - CLOCK_SKEW_MS - 1 })).toMatchObject({
			ok: false,
			reason: "not_yet_valid",
		});
		const later = formatSignInMessage({
			...inputFor(wallet.address),
			notBefore: new Date(NOW + 2 * 60 * 1000).toISOString(),
		});
		expect(await check(later)).toMatchObject({ ok: false, reason: "not_yet_valid" });
	});

	it("refuses a signature by another key, over other bytes, or of the wrong size", async () => {
		const text = formatSignInMessage(inputFor(wallet.address));
		expect(await check(text, { signer: other })).toMatchObject({
			ok: false,
			reason: "bad_signature",
		});
		const signature = await wallet.sign(encode(text));
		const tampered = text.replace("Sign in to pay Acme", "Sign in to pay Evil");
		expect(await check(tampered, { signature })).toMatchObject({
			ok: false,
			reason: "bad_signature",
		});
		expect(await check(text, { signature: signature.slice(0, 63) })).toMatchObject({
			ok: false,
			reason: "bad_signature",
		});
		const flipped = signature.slice();
		flipped[0] = (flipped[0] as number) ^ 1;
		expect(await check(text, { signature: flipped })).toMatchObject({
			ok: false,
			reason: "bad_signature",
		});
	});
});

describe("verifyEd25519", () => {
	it("verifies with Web Crypto and treats an unusable key as a bad signature", async () => {
		const message = encode("hello");
		const signature = await wallet.sign(message);
		expect(await verifyEd25519(wallet.publicKey, signature, message)).toBe(true);
		expect(await verifyEd25519(other.publicKey, signature, message)).toBe(false);
		expect(await verifyEd25519(new Uint8Array(31), signature, message)).toBe(false);
	});
});
