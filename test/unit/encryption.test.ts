import { describe, expect, it } from "vitest";
import {
	DecryptionError,
	decrypt,
	EncryptionConfigError,
	encrypt,
	envelopeKid,
	loadKeyring,
	parseEncryptionKeys,
} from "../../src/lib/encryption";

function keyText(fill: number): string {
	return btoa(String.fromCharCode(...new Uint8Array(32).fill(fill)));
}

const OLD = `old:${keyText(1)}`;
const NEW = `new:${keyText(2)}`;
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/** Flips one bit of the envelope's part `index` (base64url), keeping the format valid. */
function flipBit(envelope: string, index: number): string {
	const parts = envelope.split(".");
	const part = parts[index] as string;
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const first = alphabet.indexOf(part[0] as string);
	parts[index] = alphabet[first ^ 1] + part.slice(1);
	return parts.join(".");
}

describe("envelope encryption", () => {
	it("round-trips a secret under the current key, differently each time", async () => {
		const keyring = await loadKeyring(NEW);
		const a = await encrypt(keyring, SECRET, "we_1");
		const b = await encrypt(keyring, SECRET, "we_1");
		expect(a).not.toBe(b);
		expect(a).not.toContain(SECRET);
		expect(envelopeKid(a)).toBe("new");
		expect(await decrypt(keyring, a, "we_1")).toBe(SECRET);
		expect(await decrypt(keyring, b, "we_1")).toBe(SECRET);
	});

	it("refuses a ciphertext, wrapped key or nonce that was altered", async () => {
		const keyring = await loadKeyring(NEW);
		const envelope = await encrypt(keyring, SECRET, "we_1");
		for (const index of [2, 3, 4, 5]) {
			await expect(decrypt(keyring, flipBit(envelope, index), "we_1")).rejects.toThrow(
				DecryptionError,
			);
		}
		await expect(decrypt(keyring, envelope.slice(0, -2), "we_1")).rejects.toThrow(DecryptionError);
		await expect(decrypt(keyring, "plain text", "we_1")).rejects.toThrow(DecryptionError);
	});

	it("refuses a ciphertext moved to another row (wrong AAD)", async () => {
		const keyring = await loadKeyring(NEW);
		const envelope = await encrypt(keyring, SECRET, "we_1");
		await expect(decrypt(keyring, envelope, "we_2")).rejects.toThrow(
			"the value was altered or belongs to other data",
		);
	});

	it("still decrypts under an older key once a new one is first", async () => {
		const before = await loadKeyring(OLD);
		const envelope = await encrypt(before, SECRET, "we_1");
		const after = await loadKeyring(`${NEW},${OLD}`);
		expect(await decrypt(after, envelope, "we_1")).toBe(SECRET);
		expect(envelopeKid(await encrypt(after, SECRET, "we_1"))).toBe("new");
	});

	it("refuses a ciphertext whose key id is not configured", async () => {
		const envelope = await encrypt(await loadKeyring(OLD), SECRET, "we_1");
		await expect(decrypt(await loadKeyring(NEW), envelope, "we_1")).rejects.toThrow(
			"encrypted under key 'old', which ENCRYPTION_KEYS lacks",
		);
	});

	it("refuses a key id whose key bytes changed", async () => {
		const envelope = await encrypt(await loadKeyring(`k:${keyText(3)}`), SECRET, "we_1");
		await expect(decrypt(await loadKeyring(`k:${keyText(4)}`), envelope, "we_1")).rejects.toThrow(
			DecryptionError,
		);
	});
});

describe("ENCRYPTION_KEYS", () => {
	it("reads kid:base64 entries in order, standard or URL-safe base64", () => {
		const urlSafe = keyText(0xfb).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
		const keys = parseEncryptionKeys(` a:${keyText(1)} , b:${urlSafe}`);
		expect(keys.map((k) => k.kid)).toEqual(["a", "b"]);
		expect(keys[1]?.bytes).toEqual(new Uint8Array(32).fill(0xfb));
	});

	it.each([
		[undefined, "ENCRYPTION_KEYS: not set"],
		["", "ENCRYPTION_KEYS: not set"],
		[keyText(1), "ENCRYPTION_KEYS: entry 1 must be kid:base64(32 bytes)"],
		[`a b:${keyText(1)}`, "ENCRYPTION_KEYS: entry 1: the key id must be 1-32 of A-Z a-z 0-9 _ -"],
		[`a:${keyText(1)},a:${keyText(2)}`, "ENCRYPTION_KEYS: key id 'a' appears twice"],
		["a:!!!!", "ENCRYPTION_KEYS: key 'a' is not valid base64"],
		[`a:${btoa("short")}`, "ENCRYPTION_KEYS: key 'a' must be 32 bytes (it is 5)"],
	])("refuses %j", (value, message) => {
		expect(() => parseEncryptionKeys(value)).toThrow(EncryptionConfigError);
		expect(() => parseEncryptionKeys(value)).toThrow(message);
	});
});
